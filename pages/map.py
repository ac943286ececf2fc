"""问题地图: the community grid coloured by report count and the reports, one layer per kind."""

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.cells import GRID_RES, cell_parents, cells_from_points
from hotspot.services import MapData
from layers.base import make_map
from layers.cells import CellLegend, cells_layer, count_by_cell
from layers.communities import communities_layer
from layers.reports import MAX_POINTS, report_layers
from pages._shared import (
    lang,
    layer_counts,
    load_map_data,
    report_table,
    sidebar_filters,
    store_url,
    t,
    tiles,
)

since, chosen = sidebar_filters()
st.header(t("问题地图", "Issue map"))
data = load_map_data(store_url(), since, None, tuple(chosen))
reports = data.reports if chosen else data.reports.iloc[:0]


@st.fragment
def issue_map(data: MapData, reports: pd.DataFrame, layers: list[str]) -> None:
    """The map; a click on a cell or a marker lists that cell's reports below it."""
    fmap = make_map(data.communities.total_bounds, tiles=tiles())
    counts = count_by_cell(data.cells["cell"], reports["cell"])
    title = t("网格问题数", "Reports per cell")
    labels = (t("网格", "Cell"), t("问题数", "Reports"))
    cells_layer(data.cells["cell"], counts, name=title, aliases=labels).add_to(fmap)
    communities_layer(data.communities, name=t("社区边界", "Communities")).add_to(fmap)
    if len(reports) <= MAX_POINTS:
        for group in report_layers(reports, layers, lang=lang()):
            group.add_to(fmap)
    CellLegend(counts, title=title).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    state = st_folium(
        fmap,
        key="issue_map",
        height=620,
        use_container_width=True,
        returned_objects=["last_object_clicked"],
    )
    if clicked := (state or {}).get("last_object_clicked"):
        # the same bucketing as the counts: the parent of the stored-resolution cell
        cell = cell_parents(cells_from_points([clicked["lng"]], [clicked["lat"]]), GRID_RES)[0]
        here = reports[cell_parents(reports["cell"], GRID_RES) == cell]
        st.caption(
            t(f"所选网格 {cell:x}：{len(here)} 件问题", f"Cell {cell:x}: {len(here)} reports")
        )
        st.dataframe(report_table(here), hide_index=True)


issue_map(data, reports, chosen)
st.write(t(f"显示 **{len(reports):,}** 件问题", f"Showing **{len(reports):,}** reports"))
if len(reports) > MAX_POINTS:
    st.info(
        t(
            f"问题超过 {MAX_POINTS:,} 件，地图只显示网格汇总；缩短时间范围或减少图层可显示点位。",
            f"More than {MAX_POINTS:,} reports: the map shows cell totals only; "
            "shorten the period or pick fewer layers to see the points.",
        )
    )
st.dataframe(layer_counts(reports, chosen), hide_index=True)
