"""问题地图: the community grid coloured by report count and the reports, one layer per kind."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from hotspot.services import MapData
from layers.hotmap import build_map, too_many_points
from pages._shared import (
    current_filter,
    layer_counts,
    list_clicked_cell,
    load_map_data,
    map_options,
    store_url,
    t,
)

filters = current_filter()
st.header(t("问题地图", "Issue map"))
data = load_map_data(store_url(), filters)
reports = data.reports


@st.fragment
def issue_map(data: MapData, reports: pd.DataFrame, layers: list[str]) -> None:
    """The map; a click on a cell or a marker lists that cell's reports below it."""
    fmap = build_map(data.communities, data.cells["cell"], reports, layers, options=map_options())
    state = st_folium(
        fmap,
        key="issue_map",
        height=620,
        use_container_width=True,
        returned_objects=["last_object_clicked"],
    )
    list_clicked_cell(state, reports, key="map_report")


issue_map(data, reports, list(filters.layers))
st.write(t(f"显示 **{len(reports):,}** 件问题", f"Showing **{len(reports):,}** reports"))
if too_many_points(reports, map_options()):
    limit = map_options().point_limit()
    st.info(
        t(
            f"问题超过 {limit:,} 件，地图只显示网格汇总；缩短时间范围或减少图层可显示点位。",
            f"More than {limit:,} reports: the map shows cell totals only; "
            "shorten the period or pick fewer layers to see the points.",
        )
    )
st.dataframe(layer_counts(reports, list(filters.layers)), hide_index=True)
