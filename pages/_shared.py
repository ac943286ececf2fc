"""What every page shares: the language, the store and cached service calls.

Not a page itself (``app.py`` lists the pages). The cache decorators sit here,
at the edge around :mod:`hotspot.services`, keyed on plain arguments (the
database URL, dates, layer codes), so pages never pass engines or frames to a
cached function and no cached function reads a global.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from hotspot import services
from hotspot.assets import install_assets
from hotspot.config import database_url
from hotspot.filters import ReportFilter
from hotspot.taxonomy import LAYER_NAMES, STATUS_NAMES, load_categories
from layers.reports import ordered_layers

__all__ = [
    "LANGUAGES",
    "PERIODS",
    "get_engine",
    "is_demo",
    "lang",
    "layer_counts",
    "load_map_data",
    "report_table",
    "sidebar_filters",
    "store_url",
    "t",
    "tiles",
    "vendor_assets",
]

#: UI languages: Simplified Chinese by default, English switchable.
LANGUAGES: dict[str, str] = {"zh": "中文", "en": "English"}
#: Session-state key of the language switch in the sidebar.
LANG_KEY = "lang"
#: Periods offered in the sidebar: days back from today (0: everything).
PERIODS: dict[int, tuple[str, str]] = {
    7: ("近7天", "Last 7 days"),
    30: ("近30天", "Last 30 days"),
    90: ("近90天", "Last 90 days"),
    365: ("近一年", "Last year"),
    0: ("全部", "All"),
}
#: Seconds before cached reads go back to the store (other users change reports).
DATA_TTL = 60


def lang() -> str:
    """The language chosen in the sidebar: ``"zh"`` or ``"en"``."""
    return st.session_state.get(LANG_KEY, "zh")


def t(zh: str, en: str) -> str:
    """Pick the text for the current language."""
    return en if lang() == "en" else zh


def store_url() -> str:
    """The database URL: ``HOTSPOT_DATABASE_URL``, else ``data/hotspot.db``."""
    return database_url()


def tiles() -> str | None:
    """The basemap: ``HOTSPOT_TILES`` ("osm" or a tile URL template), else none (offline)."""
    return os.environ.get("HOTSPOT_TILES") or None


@st.cache_resource(show_spinner="正在准备数据库（首次启动会生成演示数据）…")
def get_engine(url: str) -> Engine:
    """Open the store once per process; the first start on a fresh machine builds the demo town."""
    return services.ensure_store(url)


@st.cache_resource(show_spinner=False)
def vendor_assets(static_dir: str) -> str:
    """Copy the map's Leaflet files into Streamlit's static folder, once per process."""
    return str(install_assets(static_dir))


@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def is_demo(url: str) -> bool:
    """Whether the store at ``url`` holds the synthetic demo town."""
    return services.is_demo(get_engine(url))


@st.cache_data(ttl=DATA_TTL, show_spinner="正在读取数据…")
def load_map_data(
    url: str,
    since: dt.date | None,
    until: dt.date | None,
    layers: tuple[str, ...],
) -> services.MapData:
    """Communities, grid cells, zones and the reports in the period and layers."""
    filters = ReportFilter(since=since, until=until, layers=layers)
    return services.map_data(get_engine(url), filters)


def report_table(reports: pd.DataFrame) -> pd.DataFrame:
    """Reports as a table for people: id, category, status, time, address, in the UI language."""
    i18n = 1 if lang() == "en" else 0
    if i18n:
        categories = load_categories()["name_en"].reindex(reports["category"]).to_numpy()
    else:
        categories = reports["category_name"].to_numpy()
    statuses = reports["status"].map(lambda s: STATUS_NAMES.get(s, (s, s))[i18n])
    return pd.DataFrame(
        {
            t("编号", "ID"): reports["id"].to_numpy(),
            t("类别", "Category"): categories,
            t("状态", "Status"): statuses.to_numpy(),
            t("上报时间", "Reported"): reports["reported_at"].to_numpy(),
            t("地址", "Address"): reports["address"].to_numpy(),
        }
    )


def sidebar_filters() -> tuple[dt.date | None, list[str]]:
    """Draw the period and layer filters in the sidebar.

    Returns
    -------
    since : datetime.date or None
        First day of the chosen period; None for everything.
    layers : list of str
        The chosen map layers, the headline layers first.
    """
    i18n = 1 if lang() == "en" else 0
    with st.sidebar:
        days = st.selectbox(
            t("时间范围", "Period"), list(PERIODS), index=1, format_func=lambda d: PERIODS[d][i18n]
        )
        layers = st.multiselect(
            t("图层", "Layers"),
            list(LAYER_NAMES),
            default=list(LAYER_NAMES),
            format_func=lambda layer: LAYER_NAMES[layer][i18n],
        )
    since = dt.date.today() - dt.timedelta(days=days - 1) if days else None
    return since, ordered_layers(layers)


def layer_counts(reports: pd.DataFrame, layers: list[str]) -> pd.DataFrame:
    """Reports per map layer as a table for people, in the order of ``layers``."""
    i18n = 1 if lang() == "en" else 0
    counts = reports["layer"].value_counts().reindex(layers, fill_value=0)
    return pd.DataFrame(
        {
            t("图层", "Layer"): [LAYER_NAMES.get(k, (k, k))[i18n] for k in counts.index],
            t("件数", "Reports"): counts.to_numpy(),
        }
    )
