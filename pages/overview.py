"""领导总览: KPIs against the previous period, the hotspot map, weekly trend, top cells, ranking."""

import datetime as dt

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.cells import GRID_RES
from hotspot import overview
from hotspot.filters import ReportFilter, Scope
from hotspot.taxonomy import LAYER_NAMES
from layers.hotmap import build_map
from pages._shared import (
    DATA_TTL,
    current_filter,
    get_engine,
    lang,
    list_clicked_cell,
    map_options,
    store_url,
    t,
)

filters = current_filter()

#: How each KPI's change is coloured: a rise in open, overdue or relapses is bad.
DELTA_COLORS = {
    "reports": "off",
    "open": "inverse",
    "overdue": "inverse",
    "closure_rate": "normal",
    "on_time_rate": "normal",
    "relapse_rate": "inverse",
}
#: Gi* confidence bins of hot cells as people read them.
HOT_BINS = {3: ("99%", "99%"), 2: ("95%", "95%"), 1: ("90%", "90%"), 0: ("不显著", "n.s.")}


# Cached service calls, keyed on the store URL and the frozen filters. The reports
# are read once per (url, filters); the other calls take them from that cache.
@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def reports_of(url: str, filters: ReportFilter, point_limit: int) -> pd.DataFrame:
    """The filtered reports (the columns the overview uses; footprints up to the map's limit)."""
    return overview.overview_reports(
        get_engine(url), filters, geometry=True, max_geometries=point_limit
    )


@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def kpis_of(url: str, filters: ReportFilter, today: dt.date, point_limit: int) -> pd.DataFrame:
    """KPIs of the period and the previous one."""
    reports = reports_of(url, filters, point_limit)
    return overview.kpis(get_engine(url), filters, today=today, reports=reports)


@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def trend_of(url: str, filters: ReportFilter, point_limit: int) -> pd.DataFrame:
    """Reports per week and layer."""
    reports = reports_of(url, filters, point_limit)
    return overview.weekly_trend(get_engine(url), filters, reports=reports)


@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def top_cells_of(url: str, filters: ReportFilter, today: dt.date, point_limit: int) -> pd.DataFrame:
    """The ten hottest grid cells."""
    reports = reports_of(url, filters, point_limit)
    return overview.top_hotspot_cells(get_engine(url), filters, n=10, today=today, reports=reports)


@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def ranking_of(url: str, filters: ReportFilter, today: dt.date, point_limit: int) -> pd.DataFrame:
    """Communities ranked by reports."""
    reports = reports_of(url, filters, point_limit)
    return overview.community_ranking(get_engine(url), filters, today=today, reports=reports)


@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def background_of(url: str, scope: Scope) -> tuple[pd.DataFrame, np.ndarray]:
    """Communities and grid cells under the map (those in the viewer's scope)."""
    return overview.map_background(get_engine(url), scope=scope)


def metric_value(key: str, value: float) -> str:
    """A KPI for people: counts with separators, rates as percentages, — when undefined."""
    if np.isnan(value):
        return "—"
    return f"{value:.1%}" if key.endswith("_rate") else f"{value:,.0f}"


def metric_delta(key: str, change: float) -> str | None:
    """The change from the previous period: counts, or percentage points for rates."""
    if np.isnan(change):
        return None
    if key.endswith("_rate"):
        return f"{change * 100:+.1f} {t('个百分点', 'pp')}"
    return f"{change:+,.0f}"


def draw_kpis(kpis: pd.DataFrame, previous: ReportFilter) -> None:
    """Six metrics in a row, each with its change from the previous period."""
    columns = st.columns(len(kpis))
    for column, row in zip(columns, kpis.itertuples(), strict=True):
        before = metric_value(row.key, row.previous)
        delta = metric_delta(row.key, row.change)
        changed = delta is not None and row.change != 0
        column.metric(
            t(row.name_zh, row.name_en),
            metric_value(row.key, row.value),
            delta,
            delta_color=DELTA_COLORS[row.key] if changed else "off",
            delta_arrow="auto" if changed else "off",
            delta_description=t("较上一周期", "vs previous period") if delta else None,
            help=t(f"上一周期：{before}", f"Previous period: {before}"),
            border=True,
        )
    st.caption(
        t(
            f"与上一周期（{previous.since} 至 {previous.until}）比较",
            f"Compared with the previous period ({previous.since} to {previous.until})",
        )
    )


@st.fragment
def hotspot_map(
    communities: pd.DataFrame, grid_cells: np.ndarray, reports: pd.DataFrame, layers: list[str]
) -> None:
    """The hotspot map; a click on a cell lists that cell's reports below it."""
    fmap = build_map(communities, grid_cells, reports, layers, options=map_options())
    state = st_folium(
        fmap,
        key="overview_map",
        height=520,
        use_container_width=True,
        returned_objects=["last_object_clicked"],
    )
    list_clicked_cell(state, reports, key="overview_report")


def trend_chart(trend: pd.DataFrame, layers: list[str]) -> pd.DataFrame:
    """Weekly counts as one column per layer (named in the UI language), weeks as the index."""
    i18n = 1 if lang() == "en" else 0
    wide = trend.pivot(index="week", columns="layer", values="count").reindex(columns=layers)
    wide.columns = [LAYER_NAMES.get(layer, (layer, layer))[i18n] for layer in wide.columns]
    wide.index.name = t("周", "Week")
    return wide


def top_cells_table(top: pd.DataFrame) -> pd.DataFrame:
    """The hottest cells for people, headers in the UI language."""
    i18n = 1 if lang() == "en" else 0
    community = top["community_name"].where(top["community_name"].notna(), top["community"])
    return pd.DataFrame(
        {
            t("排名", "Rank"): top["rank"].to_numpy(),
            t("网格", "Cell"): top["cell"].to_numpy(),
            t("社区", "Community"): community.to_numpy(),
            t("最近道路", "Nearest street"): top["street"].fillna("—").to_numpy(),
            t("问题数", "Reports"): top["reports"].to_numpy(),
            t("Gi* z值", "Gi* z"): top["z"].round(2).to_numpy(),
            t("置信度", "Confidence"): [HOT_BINS[int(b)][i18n] for b in top["bin"]],
        }
    )


def ranking_table(ranking: pd.DataFrame) -> pd.DataFrame:
    """The community ranking for people: rates as percentages, density per km²."""
    closure = (ranking["closure_rate"] * 100).round(1)
    density = ranking["reports_per_km2"].round(1)
    return pd.DataFrame(
        {
            t("排名", "Rank"): ranking["rank"].to_numpy(),
            t("社区", "Community"): ranking["name"].to_numpy(),
            t("上报数", "Reports"): ranking["reports"].to_numpy(),
            t("未结案", "Open"): ranking["open"].to_numpy(),
            t("超期", "Overdue"): ranking["overdue"].to_numpy(),
            t("结案率(%)", "Closure rate (%)"): closure.to_numpy(),
            t("每平方公里上报数", "Reports per km²"): density.to_numpy(),
        }
    )


url = store_url()
today = dt.date.today()
limit = map_options().point_limit()
layers = list(filters.layers)
st.header(t("领导总览", "Overview"))

period, previous = overview.kpi_periods(filters, today=today)
st.caption(
    t(
        f"统计周期：{period.since} 至 {period.until}",
        f"Period: {period.since} to {period.until}",
    )
)
draw_kpis(kpis_of(url, filters, today, limit), previous)

reports = reports_of(url, filters, limit)
left, right = st.columns([3, 2])
with left:
    st.subheader(t("热点地图", "Hotspot map"))
    hotspot_map(*background_of(url, filters.scope), reports, layers)
    if len(reports) > limit:
        st.caption(
            t(
                f"问题超过 {limit:,} 件，地图只显示网格汇总。",
                f"More than {limit:,} reports: the map shows cell totals only.",
            )
        )
with right:
    st.subheader(t("十大热点网格", "Top 10 hotspot cells"))
    top = top_cells_of(url, filters, today, limit)
    if top.empty:
        st.info(t("所选范围内没有热点网格。", "No hot cell for these filters."))
    else:
        st.dataframe(top_cells_table(top), hide_index=True)
        st.caption(
            t(
                f"按 Getis-Ord Gi* z 值排序（H3 分辨率 {GRID_RES}，含相邻网格）；"
                "置信度经 FDR 校正。",
                f"Ranked by Getis-Ord Gi* z (H3 resolution {GRID_RES}, with the neighbouring "
                "cells); confidence after FDR correction.",
            )
        )

st.subheader(t("各图层每周上报数", "Weekly reports by layer"))
trend = trend_of(url, filters, limit)
if trend.empty:
    st.info(t("所选范围内没有问题。", "No reports for these filters."))
else:
    chart = trend_chart(trend, layers)
    st.area_chart(chart, x_label=t("周", "Week"), y_label=t("件数", "Reports"), stack=True)

st.subheader(t("社区排名", "Community ranking"))
st.dataframe(ranking_table(ranking_of(url, filters, today, limit)), hide_index=True)
