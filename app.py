"""Hotspot Map: the Streamlit entry point, a router over the pages in ``pages/``.

Run with ``streamlit run app.py``. The first start on a fresh machine creates
``data/hotspot.db`` (or the store named by ``HOTSPOT_DATABASE_URL``) and fills
it with the fictional demo town.
"""

from __future__ import annotations

from pathlib import Path
from unittest.mock import Mock

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.pages_manager import PagesManager

from hotspot import auth
from pages import _session as session
from pages._shared import (
    LANG_KEY,
    LANGUAGES,
    USER_KEY,
    get_engine,
    is_demo,
    map_controls,
    sidebar_filters,
    store_url,
    t,
    vendor_assets,
)

#: Streamlit serves this folder at /app/static (server.enableStaticServing).
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The dashboard's pages by url path (as :data:`hotspot.auth.ROLE_PAGES` names them):
#: file, title (zh, en) and icon. Each url path differs from its file name (see below).
PAGES: dict[str, tuple[str, str, str, str]] = {
    "leader": ("pages/overview.py", "领导总览", "Overview", ":material/dashboard:"),
    "plan": ("pages/crackdown.py", "集中整治", "Crackdown planning", ":material/target:"),
    "grid": ("pages/community.py", "社区网格", "Community grid", ":material/holiday_village:"),
    "storefront-zones": (
        "pages/storefronts.py",
        "门前三包",
        "Storefront zones",
        ":material/storefront:",
    ),
    "issue-map": ("pages/map.py", "问题地图", "Issue map", ":material/map:"),
    "report-issue": (
        "pages/report.py",
        "问题上报",
        "Report an issue",
        ":material/add_location_alt:",
    ),
    "audit": ("pages/audit_log.py", "操作日志", "Audit log", ":material/history:"),
}
#: Pages that show no reports, so no report filters or map switches in their sidebar.
WITHOUT_REPORT_FILTERS = frozenset({"audit"})

# Because a folder named pages/ exists, Streamlit (1.67) runs the first script
# run of a process in its legacy pages-folder mode, in which this file is itself
# a "page": its widgets then get other ids than in later runs, so the first
# click of the first session was lost. st.navigation leaves that mode only from
# the next run on, so leave it now, before drawing anything. ``hotspot serve``
# turns the mode off before the server starts, which also keeps a shared link
# to a page working for that first session (see hotspot/serve.py). The pages'
# url_path must differ from their file names, or legacy mode would run
# pages/map.py directly, without this file. AppTest, on its mock runtime, puts
# every run back into that mode, so ids agree between its runs anyway, and a
# rerun there would drop the page that switch_page asked for.
if PagesManager.uses_pages_directory and not isinstance(Runtime.instance(), Mock):
    PagesManager.uses_pages_directory = False
    st.rerun()

st.set_page_config(page_title=t("问题高发点位地图", "Hotspot Map"), page_icon="🗺️", layout="wide")


def page_setup() -> None:
    """What every page needs: map assets, the store, the language switch and the demo notice."""
    vendor_assets(str(STATIC_DIR))
    with st.sidebar:
        st.segmented_control(
            "语言 / Language",
            options=list(LANGUAGES),
            format_func=LANGUAGES.__getitem__,
            default="zh",
            required=True,
            key=LANG_KEY,
        )
        url = store_url()
        get_engine(url)
        if is_demo(url):
            st.warning(t("演示数据（虚构）", "Demo data (fictional)"), icon=":material/warning:")


def pages(paths: tuple[str, ...]) -> list:
    """The pages with these url paths, in this order; the first is the start page."""
    return [
        st.Page(
            PAGES[path][0],
            title=t(PAGES[path][1], PAGES[path][2]),
            icon=PAGES[path][3],
            url_path=path,
            default=index == 0,
        )
        for index, path in enumerate(paths)
    ]


def sign_in() -> auth.User | None:
    """Who is signed in; with nobody, the login form instead of the page (and None).

    Signed out, every page is registered (hidden) so that the page a link asks for
    is still the page shown after the login, when the user's role may open it.
    """
    engine = get_engine(store_url())
    user = session.signed_in_user(engine)
    write, token = session.cookie_for_this_run()
    if write:
        session.cookie_sync(token)
    if user is None:
        st.session_state.pop(USER_KEY, None)
        st.navigation(pages(tuple(PAGES)), position="hidden")
        session.login_page(engine)
        return None
    st.session_state[USER_KEY] = user
    return user


def main() -> None:
    """Sign in, then the pages the user's role may open, with the shared sidebar."""
    page_setup()
    user = sign_in()
    if user is None:
        return
    # Only the pages this role may open: a link to another opens the role's start page.
    navigation = st.navigation(pages(auth.ROLE_PAGES[user.role]))
    session.account_sidebar(get_engine(store_url()), user)
    if navigation.url_path not in WITHOUT_REPORT_FILTERS:
        sidebar_filters()
        map_controls()
    navigation.run()


# A child process that multiprocessing spawns (the 问题上报 page's import) runs this
# script again as __mp_main__: it has nobody to sign in and nothing to draw.
if __name__ != "__mp_main__":
    main()
