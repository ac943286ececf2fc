"""Who is signed in: the login form, the session cookie, logout and reverse-proxy sign-on.

Not a page itself: ``app.py`` calls :func:`signed_in_user` on every run and
draws :func:`login_page` instead of any page until someone is signed in. A
password login opens a session (:func:`hotspot.auth.open_session`) whose token
stays in this Streamlit session and in the browser's ``hotspot_session`` cookie,
so that a reload or a shared link opened in the same browser stays signed in;
:func:`hotspot.auth.session_user` ends it after ``HOTSPOT_SESSION_IDLE_MINUTES``
without use. With ``HOTSPOT_TRUST_REMOTE_USER=1`` a reverse proxy may name the
account in the ``X-Remote-User`` header instead (single sign-on, off by default).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping

import streamlit as st
from sqlalchemy import Engine

from hotspot import audit, auth
from hotspot.auth import User
from pages._shared import LANG_KEY, community_options, store_url, t

__all__ = [
    "COOKIE",
    "REMOTE_USER_HEADER",
    "TRUST_REMOTE_USER_ENV",
    "account_sidebar",
    "cookie_for_this_run",
    "cookie_script",
    "cookie_sync",
    "login_page",
    "remote_user",
    "role_name",
    "signed_in_by_proxy",
    "signed_in_user",
    "trusts_remote_user",
]

#: The browser cookie that keeps the session token (SameSite=Strict, path /).
COOKIE = "hotspot_session"
#: Set to 1 to let a reverse proxy sign people in with :data:`REMOTE_USER_HEADER`.
TRUST_REMOTE_USER_ENV = "HOTSPOT_TRUST_REMOTE_USER"
#: The header naming the account a trusted reverse proxy has authenticated.
REMOTE_USER_HEADER = "X-Remote-User"

# Session-state keys (the names start with "auth_" so that logout keeps them).
TOKEN_KEY = "auth_token"
SPENT_KEY = "auth_spent_tokens"
NOTE_KEY = "auth_note"
ERROR_KEY = "auth_error"
SSO_KEY = "auth_remote_user"
SIGNED_OUT_KEY = "auth_signed_out"
USERNAME_KEY = "auth_username"
PASSWORD_KEY = "auth_password"
#: Tokens as :func:`hotspot.auth.open_session` makes them (URL-safe base64): safe in a cookie.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
#: Class of the hidden sidebar container holding the cookie script.
_COOKIE_BOX = "hotspot_cookie"


def trusts_remote_user(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``HOTSPOT_TRUST_REMOTE_USER`` turns reverse-proxy sign-on on (``1``, ``true``)."""
    value = (os.environ if environ is None else environ).get(TRUST_REMOTE_USER_ENV, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def remote_user(
    engine: Engine, headers: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> User | None:
    """The enabled account a trusted reverse proxy names in ``X-Remote-User``, if any.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    headers : mapping
        The request's headers (``st.context.headers``; names compared case-insensitively).
    environ : mapping, optional
        The environment to read ``HOTSPOT_TRUST_REMOTE_USER`` from; ``os.environ`` by default.

    Returns
    -------
    User or None
        None unless the variable is on and the header names an enabled account.
    """
    if not trusts_remote_user(environ):
        return None
    wanted = REMOTE_USER_HEADER.lower()
    name = next((str(v) for k, v in headers.items() if k.lower() == wanted), "").strip()
    return auth.load_user(engine, name) if name else None


def _session_token() -> str | None:
    """The token of this session: kept in the session state, else the browser's cookie."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        return token
    cookie = _cookie()
    if cookie and cookie not in st.session_state.get(SPENT_KEY, ()):
        return cookie
    return None


def _cookie() -> str | None:
    """The session token in the cookie the browser sent when it opened this session, if any."""
    value = st.context.cookies.get(COOKIE)
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else None


def _forget_token(token: str) -> None:
    """Never use ``token`` again in this session (the cookie of the first request may hold it)."""
    st.session_state.pop(TOKEN_KEY, None)
    st.session_state[SPENT_KEY] = {*st.session_state.get(SPENT_KEY, ()), token}


def signed_in_user(engine: Engine) -> User | None:
    """Who is signed in for this run, or None (then :func:`login_page` is drawn).

    A trusted ``X-Remote-User`` comes first (its first run is logged as a login);
    otherwise the session token, which :func:`hotspot.auth.session_user` checks and
    keeps alive. A token that no longer works (idle too long, or ended elsewhere)
    leaves a note for the login form.
    """
    state = st.session_state
    proxied = remote_user(engine, st.context.headers)
    if proxied is not None:
        if state.get(SSO_KEY) != proxied.username:
            audit.record(engine, proxied.username, "login", proxied.username, REMOTE_USER_HEADER)
            state[SSO_KEY] = proxied.username
        return proxied
    state.pop(SSO_KEY, None)
    token = _session_token()
    if token is None:
        return None
    user = auth.session_user(engine, token)
    if user is None:
        _forget_token(token)
        state[NOTE_KEY] = ("会话已超时，请重新登录", "Session timed out: please sign in again")
        return None
    state[TOKEN_KEY] = token
    return user


def signed_in_by_proxy() -> bool:
    """Whether this session's user came from the reverse proxy (there is no logout then)."""
    return bool(st.session_state.get(SSO_KEY))


def cookie_script(token: str | None) -> str:
    """JavaScript that sets the session cookie to ``token``, or clears it for None."""
    if token is None:
        value, lifetime = "", "; max-age=0"
    elif _TOKEN.fullmatch(token):
        value, lifetime = token, ""
    else:
        raise ValueError("not a session token")
    return (
        f"<script>document.cookie = '{COOKIE}={value}; path=/; SameSite=Strict{lifetime}'"
        " + (location.protocol === 'https:' ? '; Secure' : '');</script>"
    )


def cookie_sync(token: str | None) -> None:
    """Set (token) or clear (None) the browser's session cookie, invisibly, from the sidebar."""
    st.html(f"<style>.st-key-{_COOKIE_BOX} {{display: none}}</style>")
    with st.sidebar.container(key=_COOKIE_BOX):
        st.html(cookie_script(token), unsafe_allow_javascript=True)


def _refusal_text(exc: auth.LoginRefused) -> str:
    """A refused login in one line, in the UI language."""
    wait = math.ceil(exc.wait)
    if str(exc).startswith("too many failed logins"):
        return t(
            f"登录失败次数过多，请 {wait} 秒后再试",
            f"Too many failed logins: try again in {wait} s",
        )
    if wait > 0:
        return t(
            f"用户名或密码错误；请 {wait} 秒后再试",
            f"Wrong username or password; try again in {wait} s",
        )
    return t("用户名或密码错误", "Wrong username or password")


def _sign_in(engine: Engine) -> None:
    """Check the login form (a button callback) and open a session for its account."""
    state = st.session_state
    username = (state.get(USERNAME_KEY) or "").strip()
    password = state.get(PASSWORD_KEY) or ""
    state[PASSWORD_KEY] = ""
    state.pop(NOTE_KEY, None)
    if not username or not password:
        state[ERROR_KEY] = t("请输入用户名和密码", "Enter your username and password")
        return
    try:
        user = auth.authenticate(engine, username, password)
    except auth.LoginRefused as exc:
        state[ERROR_KEY] = _refusal_text(exc)
        return
    state.pop(ERROR_KEY, None)
    state.pop(SIGNED_OUT_KEY, None)
    state[TOKEN_KEY] = auth.open_session(engine, user)


def login_page(engine: Engine) -> None:
    """The login form, with why the last attempt failed; how to add an admin when none exists."""
    st.header(t("登录", "Sign in"))
    note = st.session_state.get(NOTE_KEY)
    if note:
        st.info(t(*note), icon=":material/schedule:")
    if auth.count_users(engine) == 0:
        st.warning(
            t(
                "尚未创建任何账号。请在服务器上用以下命令创建第一个管理员账号（按提示输入密码），"
                "然后在此登录：",
                "There are no accounts yet. Create the first administrator on the server with "
                "this command (it asks for the password), then sign in here:",
            ),
            icon=":material/person_add:",
        )
        st.code("hotspot users add admin --role admin", language="bash")
        return
    with st.form("login", enter_to_submit=True, width=420):
        st.text_input(t("用户名", "Username"), key=USERNAME_KEY, autocomplete="username")
        st.text_input(
            t("密码", "Password"),
            type="password",
            key=PASSWORD_KEY,
            autocomplete="current-password",
        )
        st.form_submit_button(
            t("登录", "Sign in"), type="primary", on_click=_sign_in, args=(engine,)
        )
    error = st.session_state.get(ERROR_KEY)
    if error:
        st.error(error, icon=":material/lock:", width=420)


def _sign_out(engine: Engine, username: str) -> None:
    """End the session (a button callback): close it, log it, forget this user's choices."""
    state = st.session_state
    token = state.get(TOKEN_KEY)
    auth.close_session(engine, token)
    if token:
        _forget_token(token)
    audit.record(engine, username, "logout", username)
    for key in list(state.keys()):
        if key != LANG_KEY and not str(key).startswith("auth_"):
            del state[key]
    for key in (NOTE_KEY, ERROR_KEY):
        state.pop(key, None)
    state[SIGNED_OUT_KEY] = True


def _plain(text: str) -> str:
    """``text`` shown as it is in Markdown (names are data, not formatting)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>|~:$])", r"\\\1", text)


def role_name(role: str) -> str:
    """A role as people call it, in the UI language."""
    zh, en = auth.ROLES.get(role, (role, role))
    return t(zh, en)


def account_sidebar(engine: Engine, user: User) -> None:
    """Who is signed in (name, role, community) and the logout button, in the sidebar."""
    parts = [role_name(user.role)]
    if user.community_code:
        names = community_options(store_url(), user.scope)
        parts.append(names.get(user.community_code, user.community_code))
    name = user.full_name or user.username
    label = name if name == user.username else f"{name}（{user.username}）"
    with st.sidebar:
        st.markdown(f":material/account_circle: **{_plain(label)}**  \n{_plain(' · '.join(parts))}")
        if signed_in_by_proxy():
            st.caption(t("已由单点登录认证", "Signed in by single sign-on"))
        else:
            st.button(
                t("退出登录", "Sign out"),
                icon=":material/logout:",
                key="auth_logout",
                on_click=_sign_out,
                args=(engine, user.username),
            )


def cookie_for_this_run() -> tuple[bool, str | None]:
    """Whether to write the cookie in this run, and what: the session's token or None to clear.

    Nothing to write under single sign-on, nor for a browser that never had the cookie.
    """
    if signed_in_by_proxy():
        return False, None
    token = st.session_state.get(TOKEN_KEY)
    if token:
        return True, token
    sent = st.context.cookies.get(COOKIE)
    had_cookie = (isinstance(sent, str) and bool(sent)) or st.session_state.get(SIGNED_OUT_KEY)
    return bool(had_cookie), None
