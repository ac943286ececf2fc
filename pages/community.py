"""社区网格: a community's grid cells on the map, its ledger (台账) and its counts per cell."""

import dataclasses
import datetime as dt

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.cells import cells_to_strings
from hotspot import ledger
from hotspot.filters import ReportFilter
from hotspot.intake.export import DEMO_NOTICE
from hotspot.taxonomy import STATUS_NAMES, STATUSES
from layers.hotmap import build_map, too_many_points
from pages._shared import (
    DATA_TTL,
    audit_export,
    clicked_cell,
    community_options,
    current_filter,
    get_engine,
    is_demo,
    lang,
    map_options,
    report_lookup,
    report_picker,
    report_table,
    store_url,
    t,
)


@st.cache_data(ttl=DATA_TTL, show_spinner="正在读取社区数据…")
def load_community(url: str, filters: ReportFilter) -> ledger.CommunityView:
    """The community named by ``filters.community``: its row, cell counts and reports."""
    return ledger.read_community(get_engine(url), filters)


filters = current_filter()
st.header(t("社区网格", "Community grid"))
url = store_url()
communities = community_options(url, filters.scope)
if not communities:
    st.info(t("库中没有社区。", "The store has no communities."))
    st.stop()
if filters.community:
    code = filters.community
    st.caption(t("社区（侧栏选择）", "Community (chosen in the sidebar)"))
    st.subheader(communities.get(code, code))
else:
    # Whole-town roles pick one here; community accounts always have their own chosen.
    code = st.selectbox(
        t("社区", "Community"),
        list(communities),
        format_func=lambda c: communities[c],
        key="grid_community",
    )
view = load_community(url, dataclasses.replace(filters, community=code))
reports = view.reports

columns = st.columns(4)
columns[0].metric(t("问题数", "Reports"), f"{len(reports):,}")
columns[1].metric(t("未结案", "Open"), f"{int(reports['open'].sum()):,}")
columns[2].metric(t("超期", "Overdue"), f"{int(reports['overdue'].sum()):,}")
columns[3].metric(t("网格数", "Grid cells"), f"{len(view.cells):,}")


@st.fragment
def grid_map(view: ledger.CommunityView, layers: list[str]) -> None:
    """The community's cells and reports; a click on a cell lists that cell's reports."""
    reports = view.reports
    fmap = build_map(view.community, view.cells["cell"], reports, layers, options=map_options())
    state = st_folium(
        fmap,
        key="grid_map",
        height=560,
        use_container_width=True,
        returned_objects=["last_object_clicked"],
    )
    if too_many_points(reports, map_options()):
        st.caption(t("问题较多，地图只显示网格汇总。", "Many reports: the map shows cell totals."))
    cell = clicked_cell(state)
    if cell is None:
        st.caption(t("点击地图上的网格，查看该网格的问题。", "Click a cell to list its reports."))
        return
    here = reports[reports["grid_cell"].to_numpy() == cell]
    row = view.cells[view.cells["cell"] == cell]
    worker = row["grid_worker"].iloc[0] if len(row) else None
    name = cells_to_strings([cell])[0]
    st.markdown(
        t(
            f"**网格 {name}**（网格员：{worker or '未指定'}）：{len(here)} 件问题",
            f"**Cell {name}** (grid worker: {worker or 'none'}): {len(here)} reports",
        )
    )
    st.dataframe(report_table(here), hide_index=True)
    report_picker(here["id"].tolist(), key="grid_report")


def cell_table(cells: pd.DataFrame) -> pd.DataFrame:
    """Counts per cell as a table for people."""
    return pd.DataFrame(
        {
            t("网格", "Cell"): cells_to_strings(cells["cell"].to_numpy()),
            t("网格员", "Grid worker"): cells["grid_worker"].to_numpy(dtype=object),
            t("问题数", "Reports"): cells["reports"].to_numpy(),
            t("未结案", "Open"): cells["open"].to_numpy(),
            t("超期", "Overdue"): cells["overdue"].to_numpy(),
        }
    )


left, right = st.columns([3, 2])
with left:
    grid_map(view, list(filters.layers))
with right:
    st.subheader(t("各网格问题数", "Reports per cell"))
    st.dataframe(cell_table(view.cells), hide_index=True, height=560)


@st.fragment
def ledger_section(reports: pd.DataFrame, code: str) -> None:
    """The ledger with its own status and text filters, and its CSV download."""
    st.subheader(t("问题台账", "Ledger"))
    i18n = 1 if lang() == "en" else 0
    pick, search = st.columns([2, 3])
    statuses = pick.multiselect(
        t("状态", "Status"),
        list(STATUSES),
        format_func=lambda s: STATUS_NAMES[s][i18n],
        key="ledger_statuses",
        placeholder=t("全部状态", "All statuses"),
    )
    text = search.text_input(
        t("搜索地址或描述", "Search address or description"), key="ledger_search"
    )
    rows = ledger.filter_ledger(reports, statuses=tuple(statuses), search=text)
    rows = rows.sort_values("reported_at", ascending=False, kind="stable")
    table = ledger.ledger_table(rows, lang=lang())
    st.caption(t(f"共 {len(rows):,} 条", f"{len(rows):,} rows"))
    st.dataframe(table, hide_index=True)
    notice = DEMO_NOTICE if is_demo(store_url()) else None
    file_name = f"ledger_{code}_{dt.date.today():%Y%m%d}.csv"
    st.download_button(
        t("下载台账（CSV）", "Download ledger (CSV)"),
        data=ledger.ledger_csv(table, notice=notice),
        file_name=file_name,
        mime="text/csv",
        on_click=audit_export,
        args=(file_name, f"ledger {code}: {len(rows)} rows"),
    )
    report_lookup(key="ledger_lookup")


ledger_section(reports, code)
