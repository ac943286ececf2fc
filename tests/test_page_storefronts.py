"""The 门前三包 page (AppTest): zones coloured by compliance, class counts, the worst shops."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import update

from geo.cells import cells_from_points
from geo.crs import to_metric
from hotspot import assets
from hotspot.store import schema
from hotspot.store.engine import open_store
from hotspot.store.frames import insert_frame
from tests.app_store import URL_RE, map_args, page_text, prepare_store, run_page

PAGE = "pages/storefronts.py"
#: The town's zone 1 (老王烧烤, W01) has this responsible phone; zone 2's is a landline.
PHONES = ("13800138000", "010-66668888")
ZONE_2 = shapely.box(116.3150, 39.7850, 116.3152, 39.78505)


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    """The small town: zone 1 with three violations and an old patrol, zone 2 compliant."""
    url = prepare_store(tmp_path / "store.db")
    engine = open_store(url)
    now = dt.datetime.now()
    centre = shapely.centroid(ZONE_2)
    zone = gpd.GeoDataFrame(
        {
            "id": [2],
            "shop_name": ["东苑花店"],
            "business_type": ["零售"],
            "address": ["东苑路3号"],
            "licence_status": ["valid"],
            "agreement_signed": [True],
            "responsible_person": ["欧阳娜娜"],
            "responsible_phone": [PHONES[1]],
            "community_id": [2],
            "area_m2": [to_metric(ZONE_2).area],
            "cell": cells_from_points([centre.x], [centre.y]),
        },
        geometry=[ZONE_2],
        crs="EPSG:4326",
    )
    patrols = pd.DataFrame(
        {
            "id": [1, 2],
            "zone_id": [1, 2],
            "patrolled_at": [now - dt.timedelta(days=40), now - dt.timedelta(days=3)],
            "inspector": ["网格员甲", "网格员乙"],
            "compliant": [True, True],
        }
    )
    report = schema.report
    with engine.begin() as conn:
        insert_frame(conn, schema.storefront_zone, zone)
        insert_frame(conn, schema.patrol, patrols)
        conn.execute(
            update(report).where(report.c.id.in_([1, 2, 3])).values(zone_id=1, status="new")
        )
    engine.dispose()
    monkeypatch.setenv("HOTSPOT_DATABASE_URL", url)
    return url


def _escaped(text: str) -> str:
    return json.dumps(text)[1:-1]


def test_storefront_page_counts_zones_per_class_and_lists_the_worst_shop(store):
    at = run_page(PAGE)
    assert at.header[0].value == "门前三包"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"责任区": "2", "达标": "1", "一项未达标": "0", "两项及以上未达标": "1"}
    worst = at.dataframe[0].value
    assert worst["商户"].tolist() == ["老王烧烤"]  # the compliant 东苑花店 is not among the worst
    assert worst["期内违规"].tolist() == [3]
    assert worst["距今天数"].tolist() == [40]
    assert worst["社区"].tolist() == ["西园社区"]
    assert worst["问题"].iloc[0] == "40天未巡查；期内违规3起"
    everything = at.dataframe[1].value
    assert everything["商户"].tolist() == ["老王烧烤", "东苑花店"]


def test_storefront_page_shows_no_unmasked_phone_anywhere(store):
    text = page_text(run_page(PAGE))
    assert PHONES[0] not in text and "66668888" not in text
    assert "138****8000" in text and "****8888" in text
    assert "王*" in text


def test_storefront_map_draws_zones_legend_and_violations_offline(store, monkeypatch):
    import layers.hotmap

    calls = []
    real = layers.hotmap.build_map

    def spy(communities, grid_cells, reports, *args, **kwargs):
        calls.append((reports, kwargs))
        return real(communities, grid_cells, reports, *args, **kwargs)

    monkeypatch.setattr(layers.hotmap, "build_map", spy)
    args = map_args(run_page(PAGE))
    violations, kwargs = calls[-1]  # the first run drew the overview page
    assert sorted(violations["id"]) == [1, 2, 3]  # the three reports in zone 1
    assert [layer.layer_name for layer in kwargs["extra"]] == ["门前三包责任区"]
    script = args["script"]
    assert args["returned_objects"] == []
    assert _escaped("门前三包责任区") in script
    assert _escaped("老王烧烤") in script and _escaped("东苑花店") in script
    assert _escaped("两项及以上未达标 (1)") in script  # the legend
    assert "#d73027" in script and "#1a9850" in script  # red and green zones
    assert _escaped("商户") in script and _escaped("最近巡查") in script  # tooltips
    assert URL_RE.findall(script + args["html"] + args["header"]) == []
    assert args["js_links"] == [assets.LEAFLET_JS_URL]


def test_storefront_page_follows_the_sidebar_community(store):
    at = run_page(PAGE)
    at.selectbox(key="f_community").set_value("E02").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["责任区"] == "1" and metrics["达标"] == "1"
    assert at.dataframe[0].value.empty
    script = map_args(at)["script"]
    assert _escaped("东苑花店") in script and _escaped("老王烧烤") not in script


def test_storefront_page_switches_to_english(store):
    at = run_page(PAGE)
    at.sidebar.segmented_control[0].set_value("en").run()
    assert not at.exception
    assert at.header[0].value == "Storefront zones"
    assert {m.label for m in at.metric} == {
        "Zones",
        "Compliant",
        "One lapse",
        "Two or more lapses",
    }
    assert at.dataframe[0].value["Shop"].tolist() == ["老王烧烤"]
    assert "Storefront zones" in map_args(at)["script"]
