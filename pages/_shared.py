"""What every page shares: the language, the store and cached service calls.

Not a page itself (``app.py`` lists the pages). The cache decorators sit here,
at the edge around :mod:`hotspot.services`, keyed on plain arguments (the
database URL, dates, layer codes), so pages never pass engines or frames to a
cached function and no cached function reads a global.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from geo.cells import GRID_RES, cell_parents, cells_from_points
from hotspot import audit, services
from hotspot.assets import install_assets
from hotspot.auth import User
from hotspot.config import database_url
from hotspot.filters import ReportFilter, Scope
from hotspot.taxonomy import LAYER_NAMES, SOURCES, STATUS_NAMES, load_categories
from layers.basemaps import available_basemaps, default_basemap
from layers.hotmap import MapOptions
from layers.reports import ordered_layers

__all__ = [
    "LANGUAGES",
    "PERIODS",
    "USER_KEY",
    "audit_export",
    "basemap_selector",
    "clicked_cell",
    "community_options",
    "current_filter",
    "current_scope",
    "current_user",
    "get_engine",
    "is_demo",
    "lang",
    "layer_counts",
    "list_clicked_cell",
    "load_map_data",
    "map_controls",
    "map_options",
    "record_action",
    "report_lookup",
    "report_picker",
    "report_table",
    "show_report",
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
#: Session-state key of the signed-in :class:`hotspot.auth.User` of this run (set by app.py).
USER_KEY = "auth_user"
#: Periods offered in the sidebar: days back from today (0: everything).
PERIODS: dict[int, tuple[str, str]] = {
    7: ("近7天", "Last 7 days"),
    30: ("近30天", "Last 30 days"),
    90: ("近90天", "Last 90 days"),
    365: ("近一年", "Last year"),
    0: ("全部", "All"),
}
#: The period shown when the URL names none.
DEFAULT_DAYS = 30
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


def current_user() -> User:
    """The signed-in user of this run; a page run without one stops here (app.py signs in)."""
    user = st.session_state.get(USER_KEY)
    if user is None:
        st.warning(t("请先登录。", "Please sign in first."))
        st.stop()
    return user


def current_scope() -> Scope:
    """What the signed-in user may see; pass it to services that take no filters."""
    return current_user().scope


def record_action(action: str, target: str | None = None, detail: str | None = None) -> None:
    """Add an entry for the signed-in user to the audit log (see :mod:`hotspot.audit`)."""
    audit.record(get_engine(store_url()), current_user().username, action, target, detail)


def audit_export(file_name: str, detail: str | None = None) -> None:
    """A download button's ``on_click``: log the export of ``file_name`` in the audit log."""
    record_action("export", file_name, detail)


def tiles() -> str:
    """The basemap of this session: the sidebar's choice, else ``HOTSPOT_TILES``, else ``none``.

    Returns
    -------
    str
        A key of :func:`layers.basemaps.available_basemaps`; ``none`` (vector only,
        works offline) when the choice is not offered here.
    """
    offered = available_basemaps()
    chosen = st.session_state.get(BASEMAP_KEY) or default_basemap()
    return chosen if chosen in offered else "none"


#: Session-state key of the basemap chosen in the sidebar.
BASEMAP_KEY = "basemap"


#: Session-state keys of the sidebar's colouring and heat-map switches.
COLOUR_KEY = "map_colour_by"
HEAT_KEY = "map_heat"


def map_controls() -> None:
    """Draw the sidebar's map switches: basemap, cell colouring (count or Gi*), heat map.

    The choices are kept in the session; :func:`map_options` reads them.
    """
    basemap_selector()
    st.session_state.setdefault(COLOUR_KEY, "count")
    with st.sidebar:
        st.segmented_control(
            t("网格着色", "Colour cells by"),
            options=["count", "gistar"],
            format_func=lambda key: (
                t("问题数", "Reports") if key == "count" else t("热点（Gi*）", "Hotspots (Gi*)")
            ),
            required=True,
            key=COLOUR_KEY,
            help=t(
                "热点：Getis-Ord Gi* 统计显著的高值聚集（红）与低值聚集（蓝）。",
                "Hotspots: Getis-Ord Gi* significant clusters of high (red) and low (blue) counts.",
            ),
        )
        st.toggle(t("热力图", "Heat map"), key=HEAT_KEY)


def basemap_selector() -> str:
    """Draw the sidebar's basemap choice (only what is configured here) and return its key.

    None (vector only) by default, OpenStreetMap and AMap, Tianditu when
    ``HOTSPOT_TIANDITU_KEY`` is set, intranet tiles when ``HOTSPOT_TILES_URL`` is.
    The choice is kept in the session; :func:`map_options` reads it.
    """
    offered = available_basemaps()
    if st.session_state.get(BASEMAP_KEY) not in offered:
        st.session_state[BASEMAP_KEY] = default_basemap()
    language = lang()
    return st.sidebar.selectbox(
        t("底图", "Basemap"),
        list(offered),
        format_func=lambda key: offered[key].name(language),
        key=BASEMAP_KEY,
        help=t(
            "底图瓦片需联网；无法加载时地图仍显示网格、边界和点位。",
            "Basemap tiles need the network; without them the map still shows "
            "cells, boundaries and reports.",
        ),
    )


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
def load_map_data(url: str, filters: ReportFilter) -> services.MapData:
    """Communities, grid cells, zones and the reports the filters select."""
    return services.map_data(get_engine(url), filters)


def map_options(**switches) -> MapOptions:
    """How maps are drawn for this session: its language and basemap, plus a page's switches.

    Parameters
    ----------
    **switches
        Other :class:`layers.hotmap.MapOptions` fields a page sets, such as
        ``colour_by="gistar"`` or ``heat=True``; they override the sidebar's switches.
    """
    chosen = {
        "colour_by": st.session_state.get(COLOUR_KEY) or "count",
        "heat": bool(st.session_state.get(HEAT_KEY)),
    }
    return MapOptions(lang=lang(), basemap=tiles(), **{**chosen, **switches})


def clicked_cell(state: dict | None) -> int | None:
    """The grid cell (resolution ``GRID_RES``) of the last map click, if any."""
    clicked = (state or {}).get("last_object_clicked")
    if not clicked:
        return None
    # the same bucketing as the counts: the parent of the stored-resolution cell
    return int(cell_parents(cells_from_points([clicked["lng"]], [clicked["lat"]]), GRID_RES)[0])


def list_clicked_cell(state: dict | None, reports: pd.DataFrame, key: str) -> int | None:
    """Under a map: the reports of the grid cell last clicked, one to open; return the cell.

    ``key`` names the report picker (one per map).
    """
    cell = clicked_cell(state)
    if cell is not None:
        here = reports[cell_parents(reports["cell"].to_numpy(dtype=np.int64), GRID_RES) == cell]
        st.caption(
            t(f"所选网格 {cell:x}：{len(here)} 件问题", f"Cell {cell:x}: {len(here)} reports")
        )
        st.dataframe(report_table(here), hide_index=True)
        report_picker(here["id"].tolist(), key)
    return cell


def report_picker(ids: list[int], key: str) -> None:
    """Pick one of the listed reports and show it (:func:`show_report`)."""
    chosen = st.selectbox(
        t("查看问题详情", "Show a report"),
        ids,
        index=None,
        placeholder=t("选择问题编号", "Pick a report number"),
        key=key,
    )
    if chosen is not None:
        show_report(int(chosen))


def _status_name(status: str | None) -> str:
    """A status code as people call it, in the UI language; a dash for none."""
    if not status or pd.isna(status):
        return "—"
    return STATUS_NAMES.get(status, (status, status))[1 if lang() == "en" else 0]


def report_lookup(key: str) -> None:
    """Type a report number and see it, if the signed-in user may (:func:`show_report`)."""
    chosen = st.number_input(
        t("按编号查看问题", "Look up a report by number"),
        min_value=1,
        step=1,
        value=None,
        placeholder=t("输入问题编号", "Type a report number"),
        key=key,
    )
    if chosen is not None:
        show_report(int(chosen))


def show_report(report_id: int) -> None:
    """One report as the signed-in user may see it: its fields, its history and its photos.

    A report outside the user's scope is "not found", exactly like one that does not exist.
    """
    detail = services.report_detail(get_engine(store_url()), report_id, current_scope())
    if detail is None:
        st.warning(
            t(f"没有编号为 {report_id} 的问题。", f"No such report: {report_id}."),
            icon=":material/search_off:",
        )
        return
    row = detail.report
    i18n = 1 if lang() == "en" else 0
    category = row["category_name"]
    if i18n:
        category = load_categories()["name_en"].get(row["category"], row["category"])
    fields = {
        t("编号", "ID"): row["id"],
        t("类别", "Category"): category,
        t("状态", "Status"): _status_name(row["status"]),
        t("上报时间", "Reported"): row["reported_at"],
        t("社区", "Community"): community_options(store_url(), current_scope()).get(
            row["community"], "—"
        ),
        t("地址", "Address"): row["address"],
        t("问题描述", "Description"): row["description"],
        t("来源", "Source"): SOURCES.get(row["source"], (row["source"],) * 2)[i18n],
        t("上报人", "Reporter"): row["reporter_name"],
        t("联系电话", "Phone"): row["reporter_phone"],
        t("整改期限", "Due"): row["due_at"],
    }
    st.markdown(t(f"**问题 {report_id}**", f"**Report {report_id}**"))
    st.dataframe(
        pd.DataFrame(
            {
                t("项目", "Field"): list(fields),
                t("内容", "Value"): ["—" if pd.isna(v) else str(v) for v in fields.values()],
            }
        ),
        hide_index=True,
    )
    if len(detail.events):
        events = detail.events
        st.dataframe(
            pd.DataFrame(
                {
                    t("时间", "When"): events["at"].to_numpy(),
                    t("操作人", "By"): events["actor"].to_numpy(),
                    t("原状态", "From"): [_status_name(s) for s in events["from_status"]],
                    t("新状态", "To"): [_status_name(s) for s in events["to_status"]],
                    t("备注", "Note"): events["note"].fillna("").to_numpy(),
                }
            ),
            hide_index=True,
        )
    if detail.photos:
        st.image([str(path) for path in detail.photos], width=240)
    else:
        st.caption(t("无照片", "No photos"))


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


#: URL query keys of the shared filters, so that a link shows the same view.
_QUERY_KEYS = {
    "days": "f_days",
    "layers": "f_layers",
    "categories": "f_categories",
    "community": "f_community",
}
#: The community filter's choice for all communities (not a community code).
ALL_COMMUNITIES = "*"
#: Session-state key of the filters the sidebar chose in this run.
FILTER_KEY = "report_filter"


@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def community_options(url: str, scope: Scope) -> dict[str, str]:
    """Community code -> name of the communities in ``scope``, in code order."""
    communities = services.community_list(get_engine(url), scope=scope)
    return dict(zip(communities["code"], communities["name"], strict=True))


def _from_query() -> None:
    """Seed the filter widgets from the URL on a session's first run (a shared link)."""
    if st.session_state.get("_filters_seeded"):
        return
    st.session_state["_filters_seeded"] = True
    query = st.query_params
    days = query.get("days")
    if days is not None and days.isdigit() and int(days) in PERIODS:
        st.session_state[_QUERY_KEYS["days"]] = int(days)
    known_layers = [layer for layer in query.get("layers", "").split(",") if layer in LAYER_NAMES]
    if known_layers:
        st.session_state[_QUERY_KEYS["layers"]] = known_layers
    if categories := query.get("categories"):
        known = set(load_categories().index)
        st.session_state[_QUERY_KEYS["categories"]] = [
            code for code in categories.split(",") if code in known
        ]
    if community := query.get("community"):
        st.session_state[_QUERY_KEYS["community"]] = community


def _to_query(days: int, layers: list[str], categories: list[str], community: str | None) -> None:
    """Write the filters into the URL; defaults are left out to keep links short."""
    wanted = {
        "days": None if days == DEFAULT_DAYS else str(days),
        "layers": None if set(layers) == set(LAYER_NAMES) else ",".join(layers),
        "categories": ",".join(categories) or None,
        "community": community or None,
    }
    for key, value in wanted.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value


def sidebar_filters() -> ReportFilter:
    """Draw the shared filters in the sidebar (period, layers, categories, community).

    Called once per run by ``app.py`` for every page, so the choice survives a
    change of page; the URL query mirrors it, so a copied link opens the same view.
    Pages read the result with :func:`current_filter`. A community or grid worker
    account is offered only its own community; the filters carry the user's scope.

    Returns
    -------
    ReportFilter
        ``since`` (None for everything), the chosen layers (headline layers first),
        the chosen categories (empty: all in those layers) and the community code.
    """
    _from_query()
    i18n = 1 if lang() == "en" else 0
    categories = load_categories()
    scope = current_scope()
    communities = community_options(store_url(), scope)  # a community account: its own
    everyone = [ALL_COMMUNITIES] if scope.whole_town else []
    # Defaults go through the session state, never as widget arguments as well:
    # Streamlit warns on the page when a widget gets both.
    st.session_state.setdefault(_QUERY_KEYS["days"], DEFAULT_DAYS)
    st.session_state.setdefault(_QUERY_KEYS["layers"], list(LAYER_NAMES))
    # A sentinel for all communities: None or "" would show the placeholder instead
    if st.session_state.get(_QUERY_KEYS["community"]) not in communities:
        st.session_state[_QUERY_KEYS["community"]] = [*everyone, *communities, ALL_COMMUNITIES][0]
    with st.sidebar:
        days = st.selectbox(
            t("时间范围", "Period"),
            list(PERIODS),
            format_func=lambda d: PERIODS[d][i18n],
            key=_QUERY_KEYS["days"],
        )
        layers = st.multiselect(
            t("图层", "Layers"),
            list(LAYER_NAMES),
            format_func=lambda layer: LAYER_NAMES[layer][i18n],
            key=_QUERY_KEYS["layers"],
        )
        in_layers = categories[categories["layer"].isin(layers)]
        name_column = "name_en" if i18n else "name_zh"
        chosen = st.multiselect(
            t("问题类别（不选为全部）", "Categories (none: all)"),
            list(in_layers.index),
            format_func=lambda code: str(categories.at[code, name_column]),
            placeholder=t("全部类别", "All categories"),
            key=_QUERY_KEYS["categories"],
        )
        community = st.selectbox(
            t("社区", "Community"),
            [*everyone, *communities],
            format_func=lambda code: communities.get(code) or t("全部社区", "All communities"),
            key=_QUERY_KEYS["community"],
        )
    community = None if community == ALL_COMMUNITIES else community
    _to_query(days, layers, chosen, community)
    since = dt.date.today() - dt.timedelta(days=days - 1) if days else None
    filters = ReportFilter(
        categories=tuple(chosen),
        layers=tuple(ordered_layers(layers)),
        community=community,
        since=since,
        scope=scope,
    )
    st.session_state[FILTER_KEY] = filters
    return filters


def current_filter() -> ReportFilter:
    """The filters the shared sidebar chose in this run (see :func:`sidebar_filters`).

    The filters carry the signed-in user's scope, so every service they reach reads
    only what that user may see. With no layer chosen the page has nothing to show:
    it says so and stops here.
    """
    scope = current_scope()
    filters = st.session_state.get(FILTER_KEY)
    if filters is None or filters.scope != scope:
        filters = ReportFilter(layers=tuple(LAYER_NAMES), scope=scope)
    if not filters.layers:
        st.info(
            t(
                "未选择图层：请在侧栏选择至少一个图层。",
                "No layer chosen: pick at least one in the sidebar.",
            )
        )
        st.stop()
    return filters


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
