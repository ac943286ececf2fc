"""门前三包 compliance: agreement, patrol within 31 days, violations; worst shops; the map layer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.cells import cells_from_points
from geo.crs import to_metric
from hotspot.filters import ReportFilter, Scope
from hotspot.store import schema
from hotspot.store.frames import insert_frame, read_reports
from hotspot.storefronts import (
    COMPLIANCE_CLASSES,
    PATROL_DAYS,
    class_counts,
    rank_zones,
    read_storefronts,
    read_violations,
    violation_reports,
    worst_zones,
    zone_table,
)
from layers.base import make_map
from layers.zones import COMPLIANCE_COLORS, ZoneLegend, zones_layer

TODAY = dt.date(2026, 6, 15)
PERIOD = ReportFilter(since=TODAY - dt.timedelta(days=29))


def _box(lng: float, lat: float) -> shapely.Polygon:
    return shapely.box(lng, lat, lng + 0.0002, lat + 0.00005)


#: Zones 2..6 beside the town's zone 1 (老王烧烤, W01, agreement signed):
#: id -> (shop, signed, community, corner).
EXTRA_ZONES = {
    2: ("好再来面馆", True, 1, (116.3020, 39.7820)),
    3: ("便民超市", True, 1, (116.3030, 39.7830)),
    4: ("阿强包子铺", False, 1, (116.3040, 39.7840)),
    5: ("利源烟酒", False, 1, (116.3060, 39.7860)),
    6: ("东苑花店", True, 2, (116.3150, 39.7850)),
}
#: Days before TODAY of each zone's patrols (late in the evening: the day counts, not hours).
PATROL_DAYS_AGO = {1: [30, 70], 2: [31], 3: [32, 400], 4: [5], 6: [1]}


def _zones() -> gpd.GeoDataFrame:
    geometry = [_box(*corner) for *_, corner in EXTRA_ZONES.values()]
    centres = shapely.centroid(geometry)
    return gpd.GeoDataFrame(
        {
            "id": list(EXTRA_ZONES),
            "shop_name": [v[0] for v in EXTRA_ZONES.values()],
            "business_type": "零售",
            "address": [f"兴旺路{i}号" for i in EXTRA_ZONES],
            "licence_status": "valid",
            "agreement_signed": [v[1] for v in EXTRA_ZONES.values()],
            "responsible_person": "李四",
            "responsible_phone": "13912345678",
            "community_id": [v[2] for v in EXTRA_ZONES.values()],
            "area_m2": [to_metric(g).area for g in geometry],
            "cell": cells_from_points(shapely.get_x(centres), shapely.get_y(centres)),
        },
        geometry=geometry,
        crs="EPSG:4326",
    )


def _patrols() -> pd.DataFrame:
    rows = [
        (zone, dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(23, 30)))
        for zone, ago in PATROL_DAYS_AGO.items()
        for days in ago
    ]
    return pd.DataFrame(
        {
            "id": np.arange(1, len(rows) + 1),
            "zone_id": [zone for zone, _ in rows],
            "patrolled_at": pd.to_datetime([at for _, at in rows]),
            "inspector": "网格员甲",
            "compliant": True,
        }
    )


#: Reports: (zone, days ago, status, duplicate_of). Zone 4 has two violations in the
#: period (plus a rejected one, a duplicate and one before the period), zone 5 one,
#: zone 6 one; report 9 is in no zone.
REPORTS = [
    (4, 3, "new", None),
    (4, 10, "closed", None),
    (4, 4, "rejected", None),
    (4, 3, "new", 1),
    (4, 45, "new", None),
    (5, 2, "dispatched", None),
    (6, 1, "resolved", None),
    (None, 1, "new", None),
]


def _reports() -> gpd.GeoDataFrame:
    zones = _zones().set_index("id")
    lng, lat, zone_ids = [], [], []
    for zone, *_ in REPORTS:
        point = shapely.centroid(zones.geometry[zone]) if zone else shapely.Point(116.301, 39.781)
        lng.append(point.x)
        lat.append(point.y)
        zone_ids.append(zone)
    n = len(REPORTS)
    reported = [
        dt.datetime.combine(TODAY - dt.timedelta(days=ago), dt.time(9)) for _, ago, *_ in REPORTS
    ]
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1),
            "category": "outside_store_business",
            "lng": lng,
            "lat": lat,
            "reported_at": pd.to_datetime(reported),
            "status": [status for _, _, status, _ in REPORTS],
            "community_id": np.where(np.array(lng) < 116.31, 1, 2),
            "zone_id": pd.array(zone_ids, dtype="Int64"),
            "duplicate_of": pd.array([d for *_, d in REPORTS], dtype="Int64"),
            "address": "兴旺路",
            "cell": cells_from_points(lng, lat),
        },
        geometry=shapely.points(lng, lat),
        crs="EPSG:4326",
    )


@pytest.fixture
def shop_engine(town_engine):
    """The tiny town with six storefront zones, their patrols and some violations."""
    with town_engine.begin() as conn:
        insert_frame(conn, schema.storefront_zone, _zones())
        insert_frame(conn, schema.patrol, _patrols())
        insert_frame(conn, schema.report, _reports())
    return town_engine


def _zones_by_id(engine, filters: ReportFilter = PERIOD) -> pd.DataFrame:
    return read_storefronts(engine, filters, today=TODAY).zones.set_index("id")


def test_patrol_30_or_31_days_ago_is_recent_32_days_ago_is_not(shop_engine):
    zones = _zones_by_id(shop_engine)
    assert PATROL_DAYS == 31
    assert zones.loc[[1, 2, 3], "days_since_patrol"].tolist() == [30.0, 31.0, 32.0]
    assert zones.loc[[1, 2, 3], "patrolled_recently"].tolist() == [True, True, False]
    assert zones.loc[3, "reasons_zh"] == "32天未巡查"
    assert zones.loc[3, "reasons_en"] == "not patrolled for 32 days"


def test_compliance_class_counts_the_lapses(shop_engine):
    zones = _zones_by_id(shop_engine)
    assert zones["compliance"].to_dict() == {
        1: "compliant",
        2: "compliant",
        3: "one_lapse",  # not patrolled recently
        4: "failing",  # no agreement, violations
        5: "failing",  # no agreement, never patrolled, a violation
        6: "one_lapse",  # a violation
    }
    assert zones["lapses"].to_dict() == {1: 0, 2: 0, 3: 1, 4: 2, 5: 3, 6: 1}
    assert zones.loc[5, "reasons_zh"] == "未签订门前三包责任书；从未巡查；期内违规1起"
    assert zones.loc[1, "reasons_zh"] == ""
    assert pd.isna(zones.loc[5, "last_patrol"]) and np.isnan(zones.loc[5, "days_since_patrol"])


def test_violations_count_reports_in_the_period_neither_rejected_nor_duplicates(shop_engine):
    zones = _zones_by_id(shop_engine)
    assert zones["violations"].to_dict() == {1: 0, 2: 0, 3: 0, 4: 2, 5: 1, 6: 1}
    everything = _zones_by_id(shop_engine, ReportFilter())
    assert everything.loc[4, "violations"] == 3  # the one 45 days ago too


def test_patrols_after_the_end_of_the_period_are_ignored(shop_engine):
    until = TODAY - dt.timedelta(days=31)
    zones = _zones_by_id(shop_engine, ReportFilter(until=until))
    # zone 1: the patrol 30 days ago is later; the one 70 days ago is 39 days before until
    assert zones.loc[1, "days_since_patrol"] == 39.0
    assert not zones.loc[1, "patrolled_recently"]
    assert zones.loc[3, "days_since_patrol"] == 1.0  # patrolled 32 days ago


def test_community_filter_keeps_only_its_zones_and_violations(shop_engine):
    view = read_storefronts(shop_engine, ReportFilter(community="E02"), today=TODAY)
    assert view.zones["id"].tolist() == [6]
    assert view.zones["community"].tolist() == ["E02"]
    assert view.violations["zone_id"].tolist() == [6]
    assert view.communities["code"].tolist() == ["E02"]
    assert set(view.cells["community_id"]) == {2}
    by_name = read_storefronts(shop_engine, ReportFilter(community="西园社区"), today=TODAY)
    assert by_name.zones["id"].tolist() == [1, 2, 3, 4, 5]


def test_read_violations_reads_what_violation_reports_keeps(shop_engine):
    for filters in (PERIOD, ReportFilter(), ReportFilter(community="W01", statuses=("new",))):
        fast = read_violations(shop_engine, filters)
        slow = violation_reports(read_reports(shop_engine, filters))
        assert fast["id"].tolist() == slow["id"].tolist()
    assert read_violations(shop_engine, PERIOD)["id"].tolist() == [1, 2, 6, 7]
    none = read_violations(shop_engine, ReportFilter(layers=("dogs",)))
    assert none.empty and "layer" in none.columns


def test_class_counts_cover_every_class_in_order(shop_engine):
    zones = read_storefronts(shop_engine, PERIOD, today=TODAY).zones
    assert class_counts(zones).to_dict() == {"compliant": 2, "one_lapse": 2, "failing": 2}
    assert class_counts(zones[zones["id"] == 1]).to_dict() == {
        "compliant": 1,
        "one_lapse": 0,
        "failing": 0,
    }
    assert list(class_counts(zones).index) == list(COMPLIANCE_CLASSES)


def test_worst_shops_by_violations_then_longest_since_patrol_never_first(shop_engine):
    zones = read_storefronts(shop_engine, ReportFilter(), today=TODAY).zones
    # violations: zone 4 three, 5 and 6 one each (5 never patrolled), 3 none
    assert worst_zones(zones)["id"].tolist() == [4, 5, 6, 3]
    assert worst_zones(zones, 2)["id"].tolist() == [4, 5]
    # the compliant ones only come in the full ranking, longest since a patrol first
    assert rank_zones(zones)["id"].tolist() == [4, 5, 6, 3, 2, 1]


def test_zone_table_shows_the_responsible_person_and_phone_masked_once_by_the_scope(
    shop_engine,
):
    masked = dataclasses.replace(PERIOD, scope=Scope(personal_data=False))
    zones = read_storefronts(shop_engine, masked, today=TODAY).zones
    table = zone_table(worst_zones(zones), community_names={"W01": "西园社区"})
    assert table["商户"].tolist() == ["阿强包子铺", "利源烟酒", "东苑花店", "便民超市"]
    assert set(table["联系电话"]) == {"139****5678"}
    assert set(table["责任人"]) == {"李*"}
    assert table["社区"].tolist() == ["西园社区", "西园社区", "E02", "西园社区"]
    assert table["责任书"].tolist() == ["未签订", "未签订", "已签订", "已签订"]
    assert table["评定"].tolist()[:2] == ["两项及以上未达标"] * 2
    assert table["距今天数"].isna().tolist() == [False, True, False, False]
    unmasked = read_storefronts(shop_engine, PERIOD, today=TODAY).zones
    english = zone_table(unmasked, lang="en")
    assert "Shop" in english.columns and set(english["Phone"]) == {"13800138000", "13912345678"}


def test_zones_layer_colours_zones_by_class_with_chinese_tooltips(shop_engine):
    zones = read_storefronts(shop_engine, PERIOD, today=TODAY).zones
    fmap = make_map(zones.total_bounds)
    zones_layer(zones).add_to(fmap)
    ZoneLegend(class_counts(zones)).add_to(fmap)
    html = fmap.get_root().render()
    assert "https://" not in html and "http://" not in html
    for label in ("商户", "业态", "责任书", "最近巡查", "期内违规"):
        assert json.dumps(label)[1:-1] in html or label in html
    for color in COMPLIANCE_COLORS.values():
        assert color in html
    # the legend names the classes with their counts
    assert json.dumps("达标 (2)")[1:-1] in html
    assert "\\u4ece\\u672a\\u5de1\\u67e5" in html or "从未巡查" in html  # never patrolled


def test_zones_layer_styles_each_zone_with_its_class_colour(shop_engine):
    zones = read_storefronts(shop_engine, PERIOD, today=TODAY).zones
    group = zones_layer(zones, lang="en")
    assert group.layer_name == "Storefront zones"
    geojson = next(iter(group._children.values()))
    styles = {
        feature["id"]: geojson.style_function(feature)["fillColor"]
        for feature in geojson.data["features"]
    }
    expected = dict(zip(zones["id"], zones["compliance"].map(COMPLIANCE_COLORS), strict=True))
    assert styles == expected
    props = {f["id"]: f["properties"] for f in geojson.data["features"]}
    assert props[5]["patrol"] == "never" and props[5]["agreement"] == "not signed"
    assert props[1]["patrol"] == (TODAY - dt.timedelta(days=30)).isoformat()
    assert "13800138000" not in json.dumps(geojson.data)


def test_zones_layer_of_no_zones_is_an_empty_group():
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs="EPSG:4326")
    group = zones_layer(empty)
    assert isinstance(group, folium.FeatureGroup) and not group._children
