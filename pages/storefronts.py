"""门前三包: storefront zones coloured by compliance, counts per class and the worst shops."""

import dataclasses
import datetime as dt

import streamlit as st
from streamlit_folium import st_folium

from hotspot import storefronts
from hotspot.filters import ReportFilter
from layers.hotmap import build_map, too_many_points
from layers.zones import ZoneLegend, zones_layer
from pages._shared import (
    DATA_TTL,
    community_options,
    current_filter,
    get_engine,
    lang,
    map_options,
    store_url,
    t,
)

#: Shops in the list of the worst.
WORST_N = 20
#: Beyond this many violations the map shows them as cell totals, not points: with
#: the zones' tooltips a year of the whole town's points would pass 2 MB of map HTML.
VIOLATION_POINTS = 1_500


@st.cache_data(ttl=DATA_TTL, show_spinner="正在读取门前三包数据…")
def load_storefronts(url: str, filters: ReportFilter, today: dt.date) -> storefronts.StorefrontView:
    """Zones of the filtered community with their compliance, and the violations."""
    return storefronts.read_storefronts(get_engine(url), filters, today=today)


filters = current_filter()
st.header(t("门前三包", "Storefront zones"))
url = store_url()
view = load_storefronts(url, filters, dt.date.today())
zones = view.zones
if zones.empty:
    st.info(t("所选范围内没有门前三包责任区。", "No storefront zones here."))
    st.stop()

counts = storefronts.class_counts(zones)
i18n = 1 if lang() == "en" else 0
columns = st.columns(1 + len(counts))
columns[0].metric(t("责任区", "Zones"), f"{len(zones):,}")
for column, (code, count) in zip(columns[1:], counts.items(), strict=True):
    share = f"{count / len(zones):.0%}"
    column.metric(
        storefronts.COMPLIANCE_CLASSES[code][i18n],
        f"{count:,}",
        t(f"占 {share}", f"{share} of zones"),
        delta_color="off",
        delta_arrow="off",
    )
st.caption(
    t(
        f"评定依据：签订责任书；{storefronts.PATROL_DAYS}天内有巡查记录（每月至少巡查1次）；"
        "所选时间范围内无违规问题。一项未达标为黄色，两项及以上为红色。",
        f"Rated on: agreement signed; patrolled within {storefronts.PATROL_DAYS} days "
        "(at least monthly); no violations in the chosen period. "
        "One lapse is amber, two or more red.",
    )
)

options = dataclasses.replace(map_options(), max_points=VIOLATION_POINTS)
fmap = build_map(
    view.communities,
    view.cells["cell"],
    view.violations,
    list(filters.layers),
    options=options,
    extra=[zones_layer(zones, lang=lang())],
)
ZoneLegend(counts, lang=lang()).add_to(fmap)
st_folium(fmap, key="zones_map", height=600, use_container_width=True, returned_objects=[])
if too_many_points(view.violations, options):
    st.caption(
        t(
            f"期内违规超过 {VIOLATION_POINTS:,} 起，地图按网格汇总显示违规数；"
            "选择社区或缩短时间范围可显示点位。",
            f"More than {VIOLATION_POINTS:,} violations: the map shows them as cell totals; "
            "pick a community or a shorter period to see the points.",
        )
    )

names = community_options(url, filters.scope)
st.subheader(t("问题最突出的商户", "Worst shops"))
st.caption(
    t(
        "按期内违规数排序，其次按距上次巡查天数（从未巡查的排在前面）。",
        "By violations in the period, then by days since the last patrol (never first).",
    )
)
worst = storefronts.worst_zones(zones, WORST_N)
st.dataframe(
    storefronts.zone_table(worst, lang=lang(), community_names=names),
    hide_index=True,
)
with st.expander(t("全部责任区", "All zones")):
    st.dataframe(
        storefronts.zone_table(storefronts.rank_zones(zones), lang=lang(), community_names=names),
        hide_index=True,
    )
