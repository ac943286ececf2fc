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

from pages._shared import (
    LANG_KEY,
    LANGUAGES,
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


def pages() -> list:
    """The dashboard's pages. Each url_path differs from its file name (see above)."""
    return [
        st.Page(
            "pages/overview.py",
            title=t("领导总览", "Overview"),
            icon=":material/dashboard:",
            url_path="leader",
            default=True,
        ),
        st.Page(
            "pages/crackdown.py",
            title=t("集中整治", "Crackdown planning"),
            icon=":material/target:",
            url_path="plan",
        ),
        st.Page(
            "pages/community.py",
            title=t("社区网格", "Community grid"),
            icon=":material/holiday_village:",
            url_path="grid",
        ),
        st.Page(
            "pages/storefronts.py",
            title=t("门前三包", "Storefront zones"),
            icon=":material/storefront:",
            url_path="storefront-zones",
        ),
        st.Page(
            "pages/map.py",
            title=t("问题地图", "Issue map"),
            icon=":material/map:",
            url_path="issue-map",
        ),
        st.Page(
            "pages/report.py",
            title=t("问题上报", "Report an issue"),
            icon=":material/add_location_alt:",
            url_path="report-issue",
        ),
    ]


page_setup()
navigation = st.navigation(pages())
sidebar_filters()
map_controls()
navigation.run()
