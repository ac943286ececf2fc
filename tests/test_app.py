"""The dashboard's map page (AppTest) and the folium layers it draws, offline."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.cells import GRID_RES, cells_from_points, cells_in_polygon
from hotspot import assets
from hotspot.store.engine import open_store
from hotspot.store.frames import read_communities, read_reports
from hotspot.taxonomy import LAYER_NAMES
from layers.base import TILE_PRESETS, feature_collection, make_map
from layers.cells import CellLegend, cell_classes, cells_layer, count_breaks, count_by_cell
from layers.communities import communities_layer
from layers.reports import report_layers
from tests.app_store import (
    COMMUNITY_NAMES,
    REPORT_MIX,
    URL_RE,
    app_test,
    map_args,
    prepare_store,
    run_page,
)

MAP_PAGE = "pages/map.py"
HEADLINE_ZH = ["僵尸车", "违法建设", "非法小广告"]
N_REPORTS = sum(REPORT_MIX.values())


@pytest.fixture
def map_store(tmp_path, monkeypatch) -> str:
    """A store holding the small town with reports, named by HOTSPOT_DATABASE_URL."""
    url = prepare_store(tmp_path / "store.db")
    monkeypatch.setenv("HOTSPOT_DATABASE_URL", url)
    return url


@pytest.fixture
def town(map_store):
    """The small town's communities and reports, as the page reads them."""
    engine = open_store(map_store)
    yield read_communities(engine), read_reports(engine)
    engine.dispose()


def _layer_names(script: str) -> list[str]:
    overlays = script[script.index("overlays") : script.index("L.control.layers")]
    return [json.loads(f'"{name}"') for name in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', overlays)]


def _urls(text: str) -> set[str]:
    return set(URL_RE.findall(text))


# --- the page ---------------------------------------------------------------


def test_map_page_runs_and_shows_demo_notice_map_and_counts(map_store):
    at = run_page(MAP_PAGE)
    assert any("演示数据（虚构）" in w.value for w in at.sidebar.warning)
    assert at.header[0].value == "问题地图"
    args = map_args(at)
    assert args["returned_objects"] == ["last_object_clicked"]
    assert any(f"**{N_REPORTS}**" in m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert table.iloc[:3, 0].tolist() == HEADLINE_ZH
    assert table.iloc[:, 1].sum() == N_REPORTS


def test_map_page_sends_no_outside_url_to_the_browser(map_store):
    args = map_args(run_page(MAP_PAGE))
    assert args["js_links"] == [assets.LEAFLET_JS_URL]
    assert args["css_links"] == [assets.LEAFLET_CSS_URL]
    assert _urls(args["script"] + args["header"] + args["html"]) == set()
    for name in COMMUNITY_NAMES:  # the labels, written as JSON-escaped text
        assert json.dumps(name)[1:-1] in args["script"]


def test_map_page_lists_headline_layers_first_in_the_layer_control(map_store):
    names = _layer_names(map_args(run_page(MAP_PAGE))["script"])
    assert names[:2] == ["网格问题数", "社区边界"]
    assert names[2:5] == HEADLINE_ZH


def test_map_page_switches_to_english(map_store):
    at = run_page(MAP_PAGE)
    at.sidebar.segmented_control[0].set_value("en").run()
    assert not at.exception
    assert at.header[0].value == "Issue map"
    assert any("Demo data" in w.value for w in at.sidebar.warning)
    assert _layer_names(map_args(at)["script"])[2:5] == [
        "Zombie cars",
        "Illegal construction",
        "Illegal ad posting",
    ]


def test_map_page_with_no_layer_chosen_asks_for_one_and_draws_no_map(map_store):
    at = run_page(MAP_PAGE)
    at.sidebar.multiselect[0].set_value([]).run()
    assert not at.exception
    assert any("未选择图层" in i.value for i in at.info)
    assert not at.get("component_instance")


def test_map_page_draws_cells_only_beyond_the_point_limit(map_store, monkeypatch):
    monkeypatch.setattr("layers.reports.MAX_POINTS", 10)
    at = run_page(MAP_PAGE)
    assert any("10" in i.value for i in at.info)
    names = _layer_names(map_args(at)["script"])
    assert names == ["网格问题数", "社区边界"]


def test_map_page_opens_a_report_of_the_clicked_cell(map_store, monkeypatch, town):
    _, reports = town
    target = reports.iloc[3]
    clicked = {"last_object_clicked": {"lng": float(target["lng"]), "lat": float(target["lat"])}}
    monkeypatch.setattr("streamlit_folium.st_folium", lambda fmap, **kwargs: clicked)
    at = run_page(MAP_PAGE)
    picker = at.selectbox(key="map_report")
    assert str(target["id"]) in picker.options
    picker.set_value(int(target["id"])).run()
    assert not at.exception
    assert any(m.value == f"**问题 {target['id']}**" for m in at.markdown)
    fields = next(f.value for f in at.dataframe if "项目" in f.value.columns)
    assert fields.set_index("项目").at["问题描述", "内容"] == target["description"]


# --- the layers -------------------------------------------------------------


def _town_map(communities, reports, **kwargs) -> folium.Map:
    fmap = make_map(communities.total_bounds, **kwargs)
    cells = np.concatenate([cells_in_polygon(p, res=GRID_RES) for p in communities.geometry])
    counts = count_by_cell(cells, reports["cell"])
    cells_layer(cells, counts).add_to(fmap)
    communities_layer(communities).add_to(fmap)
    for group in report_layers(reports):
        group.add_to(fmap)
    CellLegend(counts).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    return fmap


def test_map_html_has_no_cdn_url_and_names_the_communities(town):
    communities, reports = town
    html = _town_map(communities, reports).get_root().render()
    assert _urls(html) == set()
    assert assets.LEAFLET_JS_URL in html and assets.LEAFLET_CSS_URL in html
    for name in COMMUNITY_NAMES:  # the labels, as JSON-escaped text in the script
        assert json.dumps(name)[1:-1] in html
    # folium's own defaults are left alone for other maps
    assert "cdn" in folium.Map.default_js[0][1]


def test_map_html_links_only_the_tiles_when_asked(town):
    communities, reports = town
    html = _town_map(communities, reports, tiles="osm").get_root().render()
    tile_url, attribution = TILE_PRESETS["osm"]
    assert tile_url in html
    assert _urls(html) == {tile_url, *_urls(attribution)}


def test_report_layers_are_named_per_layer_with_headline_layers_first(town):
    _, reports = town
    names = [group.layer_name for group in report_layers(reports)]
    assert names == [*HEADLINE_ZH, "垃圾与环境卫生", "乱停乱放"]
    english = [group.layer_name for group in report_layers(reports, lang="en")]
    assert english[:3] == ["Zombie cars", "Illegal construction", "Illegal ad posting"]


def test_headline_layers_stay_in_the_control_when_empty(town):
    _, reports = town
    garbage = reports[reports["layer"] == "garbage"]
    names = [g.layer_name for g in report_layers(garbage, ["garbage", "dogs", "zombie_cars"])]
    assert names == ["僵尸车", "垃圾与环境卫生"]


def test_report_popups_escape_html_and_footprints_are_polygons(town):
    _, reports = town
    fmap = make_map(reports.total_bounds)
    for group in report_layers(reports):
        group.add_to(fmap)
    html = fmap.get_root().render()
    # the address 兴旺路1号<b> reaches the page as JSON text (the popup sets textContent)
    assert "兴旺路1号\\u003cb\\u003e" in html
    assert "1号<b>" not in html
    layers = [json.loads(m) for m in re.findall(r"HotMap\.points\((\{.*?\}), \{", html)]
    assert sum(len(data["a"]) for data in layers) == N_REPORTS
    footprints = sum(len(data.get("fp", {}).get("index", [])) for data in layers)
    assert footprints == REPORT_MIX["illegal_structure"]


def test_feature_collection_rounds_coordinates_to_six_decimals():
    data = feature_collection([shapely.Point(116.123456789, 39.987654321)], {"name": ["a&b"]})
    feature = data["features"][0]
    assert feature["geometry"]["coordinates"] == (116.123457, 39.987654)
    assert feature["properties"] == {"name": "a&amp;b"}


def test_layers_refuse_a_frame_without_crs(town):
    communities, _ = town
    no_crs = gpd.GeoDataFrame(
        communities.drop(columns="geometry"), geometry=list(communities.geometry)
    )
    with pytest.raises(ValueError, match="CRS"):
        communities_layer(no_crs)


def test_cells_are_counted_and_classed_by_report_count():
    lng, lat = np.array([116.3051, 116.3051, 116.3151]), np.array([39.7851, 39.7851, 39.7851])
    grid = np.unique(cells_from_points(lng, lat, res=GRID_RES))
    grid = np.append(grid, cells_in_polygon(shapely.box(116.30, 39.78, 116.302, 39.782), res=10)[0])
    counts = count_by_cell(grid, cells_from_points(lng, lat))
    assert sorted(counts.tolist()) == [0, 1, 2]
    breaks = count_breaks(counts)
    assert breaks[0] == 1
    classes = cell_classes(counts, breaks)
    assert (classes[counts == 0] == -1).all() and (classes[counts > 0] >= 0).all()


def test_install_assets_copies_leaflet_once(tmp_path):
    target = assets.install_assets(tmp_path)
    js = target / "leaflet.js"
    assert js.read_bytes() == (assets.leaflet_source_dir() / "leaflet.js").read_bytes()
    assert (target / "images" / "layers.png").is_file()
    mtime = js.stat().st_mtime_ns
    assets.install_assets(tmp_path)
    assert js.stat().st_mtime_ns == mtime
    assert assets.LEAFLET_JS_URL.startswith("/app/static/")


def test_sidebar_filters_follow_the_url_and_write_it_back(map_store):
    at = app_test()
    at.query_params.update({"days": "7", "layers": "zombie_cars,ad_posting", "community": "E02"})
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="f_days").value == 7
    assert at.sidebar.multiselect(key="f_layers").value == ["zombie_cars", "ad_posting"]
    assert at.sidebar.selectbox(key="f_community").value == "E02"
    at.sidebar.selectbox(key="f_days").set_value(90).run()
    assert at.query_params["days"] == "90"
    assert at.query_params["community"] == "E02"
    at.sidebar.selectbox(key="f_community").set_value("*").run()
    assert "community" not in at.query_params


def test_unknown_values_in_the_url_fall_back_to_the_defaults(map_store):
    at = app_test()
    at.query_params.update({"days": "12", "layers": "no_such_layer", "community": "X99"})
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="f_days").value == 30
    assert len(at.sidebar.multiselect(key="f_layers").value) == len(LAYER_NAMES)
    assert at.sidebar.selectbox(key="f_community").value == "*"
