"""Sign-in on the dashboard (AppTest): the login form, sessions, roles' pages, scope, audit.

The real browser's side (the cookie, a reload, the header of a reverse proxy) is in
``test_browser``; AppTest sends neither cookies nor headers, so a test signs in either
through the form or by putting a session's token where a login leaves it.
"""

from __future__ import annotations

import datetime as dt

import pytest
import streamlit as st
from sqlalchemy import select, update
from streamlit.proto.TextInput_pb2 import TextInput as TextInputProto

from geo.cells import GRID_RES, cell_parents
from hotspot import audit, auth
from hotspot.audit import read_audit
from hotspot.store import schema
from hotspot.store.engine import open_store
from hotspot.store.frames import read_reports
from pages._session import (
    NOTE_KEY,
    PASSWORD_KEY,
    TOKEN_KEY,
    USERNAME_KEY,
    cookie_script,
    remote_user,
    trusts_remote_user,
)
from pages._shared import USER_KEY
from tests.app_store import (
    ACCOUNTS,
    PASSWORD,
    app_test,
    page_text,
    prepare_store,
    run_page,
    session_token,
)

#: Each page's file and its header, by url path (as ROLE_PAGES names them).
PAGE_FILES = {
    "leader": ("pages/overview.py", "领导总览"),
    "plan": ("pages/crackdown.py", "集中整治"),
    "grid": ("pages/community.py", "社区网格"),
    "storefront-zones": ("pages/storefronts.py", "门前三包"),
    "issue-map": ("pages/map.py", "问题地图"),
    "report-issue": ("pages/report.py", "问题上报"),
    "audit": ("pages/audit_log.py", "操作日志"),
}


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    """The small town with one account per role, named by HOTSPOT_DATABASE_URL."""
    url = prepare_store(tmp_path / "store.db")
    monkeypatch.setenv("HOTSPOT_DATABASE_URL", url)
    monkeypatch.setenv("HOTSPOT_PHOTO_DIR", str(tmp_path / "photos"))
    monkeypatch.delenv("HOTSPOT_TRUST_REMOTE_USER", raising=False)
    monkeypatch.delenv("HOTSPOT_SESSION_IDLE_MINUTES", raising=False)
    monkeypatch.setattr(auth, "FAILED_LOGIN_DELAY", 0.0)
    return url


@pytest.fixture
def db(store):
    """An engine on :func:`store`."""
    engine = open_store(store)
    yield engine
    engine.dispose()


@pytest.fixture
def navigation_calls(monkeypatch) -> list[tuple[list[str], str]]:
    """Every st.navigation call of the app: its pages' titles and its position."""
    calls = []
    real = st.navigation

    def spy(pages, **kwargs):
        calls.append(([page.title for page in pages], kwargs.get("position", "sidebar")))
        return real(pages, **kwargs)

    monkeypatch.setattr(st, "navigation", spy)
    return calls


def _titles(paths) -> list[str]:
    return [PAGE_FILES[path][1] for path in paths]


def _no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _sign_in(at, username: str, password: str):
    at.text_input(key=USERNAME_KEY).input(username)
    at.text_input(key=PASSWORD_KEY).input(password)
    at.button[0].click()  # the form's submit button
    return at.run()


def _is_login_form(at) -> bool:
    keys = {widget.key for widget in at.text_input}
    return {USERNAME_KEY, PASSWORD_KEY} <= keys


# --- the login form -------------------------------------------------------------------


def test_signed_out_the_app_shows_only_the_login_form(store, navigation_calls):
    at = app_test(user=None).run()
    _no_exception(at)
    assert at.header[0].value == "登录"
    assert _is_login_form(at)
    assert at.text_input(key=PASSWORD_KEY).proto.type == TextInputProto.PASSWORD
    # no filters, no data, no page run; every page registered but hidden (for the link)
    assert not [s for s in at.sidebar.selectbox if s.key == "f_days"]
    assert not at.get("component_instance")
    assert navigation_calls == [(_titles(PAGE_FILES), "hidden")]


def test_an_empty_store_explains_how_to_add_the_first_admin(tmp_path, monkeypatch):
    url = prepare_store(tmp_path / "store.db", accounts=False)
    monkeypatch.setenv("HOTSPOT_DATABASE_URL", url)
    at = app_test(user=None).run()
    _no_exception(at)
    assert any("尚未创建任何账号" in w.value for w in at.warning)
    assert [c.value for c in at.code] == ["hotspot users add admin --role admin"]
    assert not _is_login_form(at)  # nothing could sign in


def test_a_wrong_password_is_refused_in_one_line_and_the_right_one_signs_in(store, db):
    at = app_test(user=None).run()
    _sign_in(at, "leader", "wrong-password")
    _no_exception(at)
    assert [e.value for e in at.error] == ["用户名或密码错误"]
    assert _is_login_form(at)
    assert at.text_input(key=PASSWORD_KEY).value == ""  # not kept after a failure
    assert TOKEN_KEY not in at.session_state

    _sign_in(at, "leader", PASSWORD)
    _no_exception(at)
    assert not _is_login_form(at)
    assert at.header[0].value == "领导总览"
    assert not at.error
    assert auth.session_user(db, at.session_state[TOKEN_KEY]).username == "leader"
    actions = read_audit(db, actor="leader")["action"].tolist()
    assert actions[:2] == ["login", "login_failed"]


def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(store):
    at = _sign_in(app_test(user=None).run(), "nobody", PASSWORD)
    assert [e.value for e in at.error] == ["用户名或密码错误"]


def test_repeated_failures_make_the_next_attempt_wait(store, monkeypatch):
    # every attempt in the same second, so that the wait after the third has not passed
    moment = dt.datetime.now().replace(microsecond=0)
    monkeypatch.setattr(auth, "_now", lambda: moment)
    at = app_test(user=None).run()
    for _ in range(2):
        _sign_in(at, "leader", "wrong-password")
        assert [e.value for e in at.error] == ["用户名或密码错误"]
    _sign_in(at, "leader", "wrong-password")  # the third: the next one must wait a second
    assert [e.value for e in at.error] == ["用户名或密码错误；请 1 秒后再试"]
    _sign_in(at, "leader", PASSWORD)  # at once: refused without looking at the password
    assert [e.value for e in at.error] == ["登录失败次数过多，请 1 秒后再试"]
    assert _is_login_form(at)


def test_the_login_form_switches_to_english(store):
    at = app_test(user=None).run()
    at.sidebar.segmented_control[0].set_value("en").run()
    _no_exception(at)
    assert at.header[0].value == "Sign in"
    _sign_in(at, "leader", "wrong-password")
    assert [e.value for e in at.error] == ["Wrong username or password"]


# --- sessions -------------------------------------------------------------------------


def _age_sessions(engine, minutes: float) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(schema.app_session).values(
                last_seen_at=dt.datetime.now() - dt.timedelta(minutes=minutes)
            )
        )


def test_an_idle_session_ends_with_a_note_on_the_login_form(store, db):
    at = run_page("pages/map.py")
    assert at.header[0].value == "问题地图"
    _age_sessions(db, auth.DEFAULT_IDLE_MINUTES + 1)
    at.run()
    _no_exception(at)
    assert _is_login_form(at)
    assert [i.value for i in at.info] == ["会话已超时，请重新登录"]
    assert not at.get("component_instance")  # the map is gone too
    with db.connect() as conn:  # and the session with it
        assert conn.execute(select(schema.app_session.c.token_hash)).all() == []


def test_the_idle_limit_comes_from_the_environment(store, db, monkeypatch):
    monkeypatch.setenv("HOTSPOT_SESSION_IDLE_MINUTES", "120")
    at = run_page("pages/map.py")
    _age_sessions(db, 60)
    at.run()
    assert not _is_login_form(at)
    monkeypatch.setenv("HOTSPOT_SESSION_IDLE_MINUTES", "45")
    _age_sessions(db, 60)
    at.run()
    assert _is_login_form(at)
    assert NOTE_KEY in at.session_state


def test_logout_ends_the_session_forgets_the_choices_and_is_logged(store, db):
    at = run_page("pages/map.py")
    token = at.session_state[TOKEN_KEY]
    at.sidebar.selectbox(key="f_days").set_value(7).run()
    at.button(key="auth_logout").click().run()
    _no_exception(at)
    assert _is_login_form(at)
    assert not at.info  # a logout is not a time-out
    assert auth.session_user(db, token) is None
    assert "f_days" not in at.session_state
    assert read_audit(db, actor="leader", actions=("logout",))["target"].tolist() == ["leader"]


def test_the_session_cookie_is_set_strict_for_the_whole_site_and_cleared_on_logout():
    token = "A1b2C3d4E5f6G7h8I9j0_-kLmNoPqRsTuVwXyZ012345"
    script = cookie_script(token)
    assert f"hotspot_session={token}; path=/; SameSite=Strict" in script
    assert "max-age" not in script  # a browser session's cookie; the server ends idle ones
    cleared = cookie_script(None)
    assert "hotspot_session=; path=/; SameSite=Strict; max-age=0" in cleared
    with pytest.raises(ValueError, match="token"):
        cookie_script("x'; alert(1); '")


def test_a_signed_in_run_writes_the_cookie_with_its_token(store):
    at = run_page()
    token = at.session_state[TOKEN_KEY]
    scripts = [h for h in at.get("html") if "<script>" in h.proto.body]
    assert len(scripts) == 1
    assert scripts[0].proto.unsafe_allow_javascript
    assert f"hotspot_session={token};" in scripts[0].proto.body


# --- reverse-proxy single sign-on -----------------------------------------------------


def test_x_remote_user_is_ignored_unless_the_environment_trusts_it(db):
    headers = {"X-Remote-User": "leader"}
    assert not trusts_remote_user({})
    assert remote_user(db, headers, {}) is None
    assert remote_user(db, headers, {"HOTSPOT_TRUST_REMOTE_USER": "0"}) is None
    trusted = {"HOTSPOT_TRUST_REMOTE_USER": "1"}
    assert remote_user(db, headers, trusted).username == "leader"
    assert remote_user(db, {"x-remote-user": " community "}, trusted).role == "community"
    assert remote_user(db, {"X-Remote-User": "nobody"}, trusted) is None
    assert remote_user(db, {}, trusted) is None
    auth.disable_user(db, "leader")
    assert remote_user(db, headers, trusted) is None  # only enabled accounts


# --- pages per role -------------------------------------------------------------------


@pytest.mark.parametrize("role", list(auth.ROLE_PAGES))
def test_each_role_is_offered_exactly_its_pages_starting_at_the_first(
    store, role, navigation_calls
):
    username = next(name for name, (r, _, _) in ACCOUNTS.items() if r == role)
    at = run_page(user=username)
    allowed = list(auth.ROLE_PAGES[role])
    assert navigation_calls[-1] == (_titles(allowed), "sidebar")
    assert at.header[0].value == PAGE_FILES[allowed[0]][1]  # the start page
    for path, (file, header) in PAGE_FILES.items():
        if path in allowed:
            at.switch_page(file).run()
            _no_exception(at)
            assert at.header[0].value == header
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(file)


def test_the_audit_log_page_lists_entries_and_accounts_for_admins(store, db):
    at = run_page("pages/audit_log.py", user="admin")
    assert at.header[0].value == "操作日志"
    assert not [s for s in at.sidebar.selectbox if s.key == "f_days"]  # no report filters
    log, accounts = (frame.value for frame in at.dataframe)
    assert set(log["操作"]) >= {"新建账号"}
    assert sorted(accounts["用户名"]) == sorted(ACCOUNTS)
    assert set(accounts["角色"]) == {"管理员", "领导", "执法队员", "社区", "网格员"}
    assert "argon2" not in page_text(at) and "password" not in " ".join(accounts.columns)
    at.text_input(key="audit_actor").input("test").run()  # who made the accounts
    log = at.dataframe[0].value
    assert log["操作人"].tolist() == ["test"] * len(ACCOUNTS)
    at.text_input(key="audit_actor").input("").run()
    at.multiselect(key="audit_actions").set_value(["user_added"]).run()
    assert sorted(at.dataframe[0].value["对象"]) == sorted(ACCOUNTS)


def test_the_audit_log_page_shows_the_last_30_days_unless_asked_for_more(store, db):
    old = dt.datetime.now() - dt.timedelta(days=40)
    audit.record(db, "leader", "export", "ledger_old.csv", at=old)
    at = run_page("pages/audit_log.py", user="admin")
    assert "ledger_old.csv" not in at.dataframe[0].value["对象"].tolist()
    at.date_input(key="audit_since").set_value(old.date()).run()
    _no_exception(at)
    assert "ledger_old.csv" in at.dataframe[0].value["对象"].tolist()


def test_the_audit_log_page_stops_anyone_but_an_admin_run_directly(store, db):
    from streamlit.testing.v1 import AppTest

    leader = auth.load_user(db, "leader")
    at = AppTest.from_file("../pages/audit_log.py", default_timeout=30)
    at.session_state[USER_KEY] = leader
    at.run()
    assert [e.value for e in at.error] == ["无权查看操作日志。"]
    assert not at.dataframe


# --- what a community's people see ---------------------------------------------------


def test_a_community_account_is_offered_only_its_community_and_its_reports(store, db):
    at = run_page("pages/map.py", user="community")
    community = at.sidebar.selectbox(key="f_community")
    assert community.options == ["西园社区"]
    assert community.value == "W01"
    west = read_reports(db)
    west = west[west["community"] == "W01"]
    assert any(f"**{len(west)}**" in m.value for m in at.markdown)
    assert at.session_state["report_filter"].scope == auth.load_user(db, "community").scope


def test_a_link_to_another_community_falls_back_to_the_own(store):
    at = app_test(user=None)
    at.session_state[TOKEN_KEY] = session_token("community")
    at.query_params["community"] = "E02"
    at.run()
    _no_exception(at)
    assert at.sidebar.selectbox(key="f_community").value == "W01"
    assert at.query_params["community"] == "W01"


def test_a_grid_worker_sees_only_the_reports_of_its_cells(store, db):
    at = run_page("pages/map.py", user="gridworker")
    cells = set(auth.load_user(db, "gridworker").cells)
    reports = read_reports(db)
    parents = cell_parents(reports["cell"].to_numpy(), GRID_RES)
    mine = reports[[int(cell) in cells for cell in parents]]
    assert 0 < len(mine) < (reports["community"] == "W01").sum()
    assert any(f"**{len(mine)}**" in m.value for m in at.markdown)
    assert at.sidebar.selectbox(key="f_community").options == ["西园社区"]


def test_a_report_outside_the_scope_is_not_found_by_its_number(store, db):
    reports = read_reports(db)
    east = int(reports.loc[reports["community"] == "E02", "id"].iloc[0])
    west = int(reports.loc[reports["community"] == "W01", "id"].iloc[0])
    at = run_page("pages/community.py", user="community")
    at.number_input(key="ledger_lookup").set_value(east).run()
    _no_exception(at)
    assert [w.value for w in at.warning if "没有" in w.value] == [f"没有编号为 {east} 的问题。"]
    at.number_input(key="ledger_lookup").set_value(west).run()
    assert any(m.value == f"**问题 {west}**" for m in at.markdown)
    assert not [w for w in at.warning if "没有" in w.value]
    # a leader sees the east one
    leader = run_page("pages/community.py")
    leader.number_input(key="ledger_lookup").set_value(east).run()
    assert any(m.value == f"**问题 {east}**" for m in leader.markdown)
