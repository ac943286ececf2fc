"""Hotspot Map: the Streamlit entry point, a router over the pages in ``pages/``.

Run with ``streamlit run app.py``. The first start on a fresh machine creates
``data/hotspot.db`` (or the store named by ``HOTSPOT_DATABASE_URL``) and fills
it with the fictional demo town.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from pages._shared import LANG_KEY, LANGUAGES, get_engine, is_demo, store_url, t, vendor_assets

#: Streamlit serves this folder at /app/static (server.enableStaticServing).
STATIC_DIR = Path(__file__).resolve().parent / "static"

# Because a folder named pages/ exists, Streamlit (1.67) runs the first script
# run of a process (and every AppTest run) in its legacy pages-folder mode, in
# which this file is itself a "page": its widgets then get other ids than in
# later runs, so the first click of the first session was lost. st.navigation
# leaves that mode only from the next run on, so leave it now, before drawing
# anything. (The pages' url_path must differ from their file names, or legacy
# mode would run pages/map.py directly, without this file.)
if PagesManager.uses_pages_directory:
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
            st.warning(t("演示数据（虚构）", "Demo data (fictional)"), icon="⚠️")


page_setup()
navigation = st.navigation(
    [
        st.Page(
            "pages/map.py",
            title=t("问题地图", "Issue map"),
            icon="🗺️",
            url_path="issue-map",
            default=True,
        ),
    ]
)
navigation.run()
