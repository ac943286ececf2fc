"""The map's layers: hexagons by zoom, Gi* colours, report points, heat, basemaps, offline HTML.

The browser-side code (layers/js/hotmap.js) is exercised in Node where it is pure
(decoding, GCJ-02, binning) and with Leaflet loaded from the installed package.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import folium
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.cells import (
    GRID_RES,
    cell_boundaries,
    cell_parents,
    cells_from_points,
    resolution_for_zoom,
)
from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from hotspot import assets
from hotspot.filters import ReportFilter
from hotspot.hexmap import HEX_RESOLUTIONS, hex_levels, map_hexes, service_area_of
from hotspot.store.engine import open_store
from hotspot.store.frames import read_communities, read_grid_cells, read_reports
from hotspot.taxonomy import LAYER_NAMES, STATUS_NAMES
from layers.base import (
    LIBRARY_PATH,
    decode_ints,
    encode_ints,
    encode_rings,
    js_json,
    library_js,
    make_map,
)
from layers.basemaps import (
    AMAP,
    ENV_DEFAULT,
    ENV_TIANDITU_KEY,
    ENV_TILES_CRS,
    ENV_TILES_URL,
    available_basemaps,
    default_basemap,
    get_basemap,
)
from layers.heat import heat_data, heat_layer
from layers.hexes import GI_BINS, GI_COLORS, hex_layer, zoom_ranges
from layers.hotmap import MapOptions, build_map
from layers.reports import point_columns, report_layers
from tests.app_store import REPORT_MIX, prepare_store
from tests.stores import new_store_url

URL_RE = re.compile(r"https?://[^\s\"'`)<>\\]+")
N_REPORTS = sum(REPORT_MIX.values())
NODE = shutil.which("node")


# --- helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    """The small two-community town with reports in every headline layer."""
    url = prepare_store(tmp_path_factory.mktemp("layers") / "store.db")
    engine = open_store(url)
    yield read_communities(engine), read_grid_cells(engine), read_reports(engine), engine
    engine.dispose()


def _render(fmap: folium.Map) -> str:
    return fmap.get_root().render()


def _call_args(text: str, call: str) -> list:
    """The JSON arguments of every ``call(...)`` in ``text``, e.g. ``HotMap.hexes``."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(re.escape(call) + r"\(", text):
        args, at = [], match.end()
        while True:
            value, at = decoder.raw_decode(text, at)
            args.append(value)
            at = len(text) - len(text[at:].lstrip())
            if text[at] == ")":
                break
            at += 1  # the comma
            at = len(text) - len(text[at:].lstrip())
        found.append(args)
    return found


def _node(script: str) -> object:
    """Run ``script`` in Node with the map code (and Leaflet) loaded; return what it prints."""
    if NODE is None:
        if os.environ.get("CI"):
            pytest.fail("node not found: the map code's tests need Node.js")
        pytest.skip("node not found")
    leaflet = assets.leaflet_source_dir() / "leaflet.js"
    prelude = f"""
        globalThis.window = globalThis;
        globalThis.navigator = {{userAgent: "node", platform: ""}};
        globalThis.screen = {{deviceXDPI: 96, logicalXDPI: 96}};
        globalThis.document = {{
            documentElement: {{style: {{}}}}, createElement: () => ({{style: {{}}}})
        }};
        globalThis.L = require({json.dumps(str(leaflet))});
        require({json.dumps(str(LIBRARY_PATH))});
    """
    done = subprocess.run(
        [NODE, "-e", prelude + script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def _hosts(text: str) -> set[str]:
    return {urlsplit(url).hostname for url in URL_RE.findall(text)}


def _colour_of(spec: dict) -> dict[str, str]:
    return {cell: spec["palette"][k] for cell, k in zip(spec["ids"], spec["k"], strict=True)}


# --- compact encoding -------------------------------------------------------------


def test_encoded_integers_read_back_the_same_in_python_and_in_the_browser_code():
    rng = np.random.default_rng(5)
    values = np.concatenate(
        [[0, 1, -1, 31, 32, -32, -33, 2**33, -(2**33)], rng.integers(-(10**9), 10**9, 500)]
    )
    text = encode_ints(values)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", text)  # no quote, brace or backslash
    assert decode_ints(text).tolist() == values.tolist()
    assert _node(f"console.log(JSON.stringify(HotMap.decode({json.dumps(text)})))") == (
        values.tolist()
    )


def test_encoded_hexagon_rings_keep_every_vertex_to_a_millionth_of_a_degree():
    cells = cells_from_points([116.30, 116.31, 116.32], [39.78, 39.79, 39.78], res=10)
    encoded = encode_rings(cell_boundaries(cells))
    rings = _node(
        f"console.log(JSON.stringify(HotMap.rings({json.dumps(encoded.text)}, "
        f"{json.dumps(encoded.origin)})))"
    )
    assert encoded.counts.tolist() == [1, 1, 1]
    for ring, cell in zip(rings, cells.tolist(), strict=True):
        expected = [
            (round(lat, 6), round(lng, 6)) for lat, lng in h3.cell_to_boundary(h3.int_to_str(cell))
        ]
        assert [tuple(v) for v in np.round(ring, 6).tolist()] == expected


def test_js_json_cannot_close_the_script_or_open_a_template_tag():
    text = "</script><script>alert(1)</script> {{ 7*7 }} {% if 1 %} {#x#} 兴旺路&1号"
    out = js_json({"a": text})
    assert "</script" not in out and "<" not in out and "&" not in out
    assert "{{" not in out and "{%" not in out and "{#" not in out
    assert "兴旺路" in out  # Chinese stays readable and short
    assert json.loads(out) == {"a": text}


def test_a_report_address_with_template_syntax_is_shown_as_text_not_run(town):
    communities, cells, reports, _ = town
    reports = reports.copy()
    reports.loc[reports.index[0], "address"] = "{{ 7*7 }}号</script>"
    html = _render(build_map(communities, cells["cell"], reports))
    assert "\\u007b{ 7*7 }}号\\u003c/script\\u003e" in html
    assert "49号" not in html


def test_library_has_no_outside_url_and_no_template_syntax():
    code = library_js()
    assert URL_RE.findall(code) == []
    assert not re.search(r"\{[{%#]", code)


# --- hexagons by zoom -------------------------------------------------------------


def test_hex_levels_count_every_report_at_each_resolution(town):
    communities, _, reports, _ = town
    levels = hex_levels(reports["cell"], service_area_of(communities))
    assert sorted(levels["res"].unique().tolist()) == list(HEX_RESOLUTIONS)
    for res, rows in levels.groupby("res"):
        assert rows["count"].sum() == N_REPORTS
        parents = pd.Series(cell_parents(reports["cell"], res)).value_counts()
        got = rows.set_index("cell")["count"]
        assert got[got > 0].sort_index().to_dict() == parents.sort_index().to_dict()


def test_map_hexes_service_reads_the_filtered_reports(town):
    communities, _, reports, engine = town
    filters = ReportFilter(layers=("zombie_cars",))
    hexes = map_hexes(engine, filters)
    zombie = reports[reports["layer"] == "zombie_cars"]
    expected = hex_levels(zombie["cell"], service_area_of(communities))
    pd.testing.assert_frame_equal(hexes, expected)


def test_zoom_ranges_follow_resolution_for_zoom():
    ranges = zoom_ranges(HEX_RESOLUTIONS)
    assert [r for r, _, _ in ranges] == [8, 9, 10, 11]
    assert ranges[0][1] is None and ranges[-1][2] is None
    for zoom in np.arange(8, 20, 0.25):
        (res,) = [
            r
            for r, start, stop in ranges
            if (start is None or zoom >= start) and (stop is None or zoom < stop)
        ]
        assert res == min(max(resolution_for_zoom(zoom), 8), 11), zoom


def test_zoom_switch_script_names_every_resolution_layer(town):
    communities, cells, reports, _ = town
    html = _render(build_map(communities, cells["cell"], reports))
    defined = dict(re.findall(r"var (hex_r(\d+)_\w+) = HotMap\.hexes\(", html))
    assert sorted(int(r) for r in defined.values()) == list(HEX_RESOLUTIONS)
    grid = re.search(r"var (hex_grid_\w+) = HotMap\.outline\(", html).group(1)
    switch = html[html.index("HotMap.zoomSwitch(") :]
    switch = switch[: switch.index("});") + 3]
    for name, res in defined.items():
        assert re.search(rf"res: {res},[^}}]*layers: \[[^\]]*\b{name}\b", switch, re.S)
    # the grid outline shows with resolution 10 and finer
    for res in HEX_RESOLUTIONS:
        level = re.search(rf"res: {res},.*?legend", switch, re.S).group(0)
        assert (grid in level) == (res >= GRID_RES)


def test_count_mode_colours_the_busiest_cell_darkest_and_outlines_the_whole_grid(town):
    communities, cells, reports, _ = town
    group = hex_layer(hex_levels(reports["cell"], service_area_of(communities)), cells["cell"])
    fmap = make_map(communities.total_bounds)
    group.add_to(fmap)
    html = _render(fmap)
    specs = {args[0]["res"]: args[0] for args in _call_args(html, "HotMap.hexes")}
    spec = specs[GRID_RES]
    busiest = spec["ids"][int(np.argmax(spec["counts"]))]
    assert _colour_of(spec)[busiest] == "#bd0026"  # the top YlOrRd class
    assert min(spec["counts"]) >= 1  # empty cells are only outlined
    ((outline, _style),) = _call_args(html, "HotMap.outline")
    stream = decode_ints(outline["cells"])
    # one ring of six vertices per grid cell: the count, then six (dlng, dlat) steps
    assert stream.size == 13 * len(cells)
    assert (stream[::13] == 6).all()


def _planted_hot_and_cold():
    """A disc of res-9 cells with 5 reports each, a hot spot of 30 and a hole of 0."""
    centre = int(cells_from_points([116.35], [39.80], res=9)[0])
    disc = np.array([h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(centre), 8)])
    hot = int(cells_from_points([116.362], [39.80], res=9)[0])
    cold = int(cells_from_points([116.338], [39.80], res=9)[0])
    hot_ring = {h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(hot), 1)}
    cold_ring = {h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(cold), 2)}
    counts = [30 if c in hot_ring else 0 if c in cold_ring else 5 for c in disc.tolist()]
    area = shapely.union_all(cell_boundaries(disc))
    return np.repeat(disc, counts), area, format(hot, "x"), format(cold, "x")


def test_gistar_mode_colours_a_hot_cell_red_and_a_cold_cell_blue():
    report_cells, area, hot, cold = _planted_hot_and_cold()
    hexes = hex_levels(report_cells, area, resolutions=(9,))
    fmap = make_map(area.bounds)
    hex_layer(hexes, colour_by="gistar", resolutions=(9,)).add_to(fmap)
    html = _render(fmap)
    ((spec, _),) = _call_args(html, "HotMap.hexes")
    colours = _colour_of(spec)
    reds = {GI_COLORS[b] for b in (1, 2, 3)}
    blues = {GI_COLORS[b] for b in (-1, -2, -3)}
    assert colours[hot] == GI_COLORS[3]
    assert colours[cold] in blues
    assert cold in spec["ids"] and spec["counts"][spec["ids"].index(cold)] == 0
    assert reds.isdisjoint(blues) and GI_COLORS[0] not in reds | blues
    # the legend names every bin, hot to cold
    legend = html[html.index("HotMap.zoomSwitch(") :]
    for b in GI_BINS:
        assert GI_COLORS[b] in legend


def test_colour_mode_is_checked():
    with pytest.raises(ValueError, match="colour_by"):
        MapOptions(colour_by="heat")


# --- report points ----------------------------------------------------------------


def test_point_columns_carry_every_report_with_its_popup_fields(town):
    _, _, reports, _ = town
    names = {code: zh for code, (zh, _) in STATUS_NAMES.items()}
    columns = point_columns(reports, status_names=names)
    x = np.cumsum(decode_ints(columns["x"])) + columns["origin"][0]
    y = np.cumsum(decode_ints(columns["y"])) + columns["origin"][1]
    ids = np.cumsum(decode_ints(columns["id"]))
    got = dict(zip(ids.tolist(), zip(x.tolist(), y.tolist(), strict=True), strict=True))
    expected = {
        i: (round(lng * 1e6), round(lat * 1e6))
        for i, lng, lat in zip(reports["id"], reports["lng"], reports["lat"], strict=True)
    }
    assert got == expected
    by_id = reports.set_index("id")
    categories = [columns["categories"][c] for c in decode_ints(columns["c"])]
    assert categories == by_id.loc[ids, "category_name"].tolist()
    statuses = [columns["statuses"][s] for s in decode_ints(columns["s"])]
    assert statuses == [names[s] for s in by_id.loc[ids, "status"]]
    minutes = decode_ints(columns["t"]) + columns["t0"]
    stamps = pd.to_datetime(minutes, unit="m")
    assert (stamps == by_id.loc[ids, "reported_at"].dt.floor("min").to_numpy()).all()
    # addresses as given (the browser writes them as text): "<b>" is not a tag there
    assert "兴旺路1号<b>" in columns["a"]
    assert columns["labels"] == ["编号", "类别", "状态", "日期", "地址"]
    footprints = columns["fp"]
    assert len(footprints["index"]) == REPORT_MIX["illegal_structure"]
    assert all(by_id.loc[ids[i], "category"] == "illegal_structure" for i in footprints["index"])


def test_report_layers_pass_the_clustering_thresholds_and_keep_headline_order(town):
    _, _, reports, _ = town
    layers = report_layers(reports, cluster_above=7, individual_zoom=16.5)
    assert [layer.layer_name for layer in layers][:3] == ["僵尸车", "违法建设", "非法小广告"]
    for layer in layers:
        ((_data, options),) = _call_args(layer.expression, "HotMap.points")
        assert options["clusterAbove"] == 7 and options["individualZoom"] == 16.5
        assert options["color"].startswith("#")
    total = sum(
        decode_ints(_call_args(g.expression, "HotMap.points")[0][0]["c"]).size for g in layers
    )
    assert total == N_REPORTS


def test_report_text_in_the_map_is_json_escaped(town):
    communities, cells, reports, _ = town
    html = _render(build_map(communities, cells["cell"], reports))
    assert "兴旺路1号\\u003cb\\u003e" in html
    assert "兴旺路1号<b>" not in html


def test_points_bin_into_screen_squares_in_the_browser_code():
    groups = _node(
        "console.log(JSON.stringify(HotMap.bin([5, 50, 65, 130, 10], [5, 20, 5, 5, 70],"
        " [0, 1, 2, 3, 4], 60)))"
    )
    assert groups == [[0, 1], [2], [3], [4]]


# --- heat ---------------------------------------------------------------------------


def test_heat_data_carries_every_point(town):
    _, _, reports, _ = town
    data = heat_data(reports)
    x = np.cumsum(decode_ints(data["x"])) + data["origin"][0]
    y = np.cumsum(decode_ints(data["y"])) + data["origin"][1]
    got = sorted(zip(x.tolist(), y.tolist(), strict=True))
    expected = sorted(
        (round(lng * 1e6), round(lat * 1e6))
        for lng, lat in zip(reports["lng"], reports["lat"], strict=True)
    )
    assert got == expected
    layer = heat_layer(reports, name="热力图")
    ((sent, options),) = _call_args(layer.expression, "HotMap.heat")
    assert sent == data and options["radius"] > 0


def test_heat_map_is_an_overlay_only_when_asked(town):
    communities, cells, reports, _ = town
    plain = _render(build_map(communities, cells["cell"], reports))
    assert "HotMap.heat(" not in plain
    html = _render(build_map(communities, cells["cell"], reports, options=MapOptions(heat=True)))
    overlays = html[html.index("overlays") : html.index("L.control.layers")]
    names = [json.loads(f'"{n}"') for n in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', overlays)]
    assert names[:2] == ["网格问题数", "社区边界"] and names[-1] == "热力图"


def test_heat_spot_opacity_scales_with_the_densest_square():
    alphas = _node(
        "console.log(JSON.stringify([HotMap.heatAlpha([1, 2, 3], [1, 2, 3], [0, 1, 2], 20),"
        " HotMap.heatAlpha([1], [1], [0], 20)]))"
    )
    assert alphas == pytest.approx([2 / 3, 0.8])


# --- basemaps and GCJ-02 --------------------------------------------------------------


def test_basemaps_offer_tianditu_and_intranet_tiles_only_when_configured():
    assert list(available_basemaps({})) == ["none", "osm", "amap"]
    env = {
        ENV_TIANDITU_KEY: "k123",
        ENV_TILES_URL: "http://tiles.intra/{z}/{x}/{y}.png",
        ENV_TILES_CRS: "gcj02",
    }
    offered = available_basemaps(env)
    assert list(offered) == ["none", "osm", "amap", "tianditu", "intranet"]
    assert all("tk=k123" in url for url in offered["tianditu"].urls)
    assert offered["intranet"].crs == "gcj02"
    assert default_basemap(env) == "none"
    assert default_basemap({**env, ENV_DEFAULT: "amap"}) == "amap"
    assert default_basemap({ENV_DEFAULT: "tianditu"}) == "none"  # no key: not offered
    with pytest.raises(ValueError, match="not available"):
        get_basemap("tianditu", {})


def test_intranet_tiles_in_an_unknown_crs_are_not_offered(caplog):
    env = {ENV_TILES_URL: "http://tiles.intra/{z}/{x}/{y}.png", ENV_TILES_CRS: "bd09"}
    assert "intranet" not in available_basemaps(env)
    assert "HOTSPOT_TILES_CRS" in caplog.text


@pytest.mark.parametrize("key", ["none", "osm", "amap", "tianditu", "intranet"])
def test_no_outside_url_reaches_the_page_but_the_tile_hosts(town, monkeypatch, key):
    monkeypatch.setenv(ENV_TIANDITU_KEY, "k123")
    monkeypatch.setenv(ENV_TILES_URL, "http://10.1.2.3/tiles/{z}/{x}/{y}.png")
    communities, cells, reports, _ = town
    options = MapOptions(basemap=key, heat=True, colour_by="gistar")
    html = _render(build_map(communities, cells["cell"], reports, options=options))
    basemap = get_basemap(key)
    attribution_hosts = _hosts(basemap.attribution)
    assert _hosts(html) <= {h.replace("{s}", "") for h in basemap.hosts} | attribution_hosts | {
        urlsplit(u).hostname for u in basemap.urls
    }
    if key == "none":
        assert _hosts(html) == set() and "L.tileLayer(" not in html
    else:
        assert html.count("L.tileLayer(") == len(basemap.urls)
        assert "HotMap.watchTiles(" in html and "底图加载失败" in html
    assert assets.LEAFLET_JS_URL in html


def test_amap_basemap_draws_the_map_in_gcj02_and_others_in_web_mercator(town):
    communities, cells, reports, _ = town
    amap = _render(
        build_map(communities, cells["cell"], reports, options=MapOptions(basemap="amap"))
    )
    osm = _render(build_map(communities, cells["cell"], reports, options=MapOptions(basemap="osm")))
    assert "crs: L.CRS.GCJ02" in amap and "crs: L.CRS.GCJ02" not in osm
    assert "crs: L.CRS.EPSG3857" in osm
    # the library that defines the CRS runs before the map is made
    assert amap.index("L.CRS.GCJ02 = H.GCJ02") < amap.index("crs: L.CRS.GCJ02")
    assert AMAP.crs == "gcj02"


def test_gcj02_projection_shifts_a_known_point_by_the_gcj02_offset():
    points = [(116.397428, 39.90923), (116.31, 39.785), (121.4737, 31.2304), (2.35, 48.85)]
    shifted, back, projected = _node(
        f"""
        const pts = {json.dumps(points)};
        const shifted = pts.map(p => HotMap.wgs84ToGcj02(p[0], p[1]));
        const back = shifted.map(p => HotMap.gcj02ToWgs84(p[0], p[1]));
        const projected = pts.map(p => {{
            const a = L.CRS.GCJ02.latLngToPoint(L.latLng(p[1], p[0]), 15);
            const g = HotMap.wgs84ToGcj02(p[0], p[1]);
            const b = L.CRS.EPSG3857.latLngToPoint(L.latLng(g[1], g[0]), 15);
            const r = L.CRS.GCJ02.pointToLatLng(a, 15);
            return [a.x - b.x, a.y - b.y, r.lng - p[0], r.lat - p[1]];
        }});
        console.log(JSON.stringify([shifted, back, projected]));
        """
    )
    lng, lat = np.array(points).T
    glng, glat = wgs84_to_gcj02(lng, lat)
    np.testing.assert_allclose(np.array(shifted), np.column_stack([glng, glat]), rtol=0, atol=1e-9)
    wlng, wlat = gcj02_to_wgs84(glng, glat)
    np.testing.assert_allclose(np.array(back), np.column_stack([wlng, wlat]), rtol=0, atol=1e-9)
    # Beijing moves some 500-600 m east and north; Paris is outside China, unmoved
    assert 0.005 < glng[0] - lng[0] < 0.007 and 0.001 < glat[0] - lat[0] < 0.002
    assert (glng[3], glat[3]) == (lng[3], lat[3])
    np.testing.assert_allclose(np.array(projected), 0, rtol=0, atol=1e-6)


# --- the whole map --------------------------------------------------------------------


def test_build_map_lists_cells_communities_then_headline_layers(town):
    communities, cells, reports, _ = town
    html = _render(build_map(communities, cells["cell"], reports))
    overlays = html[html.index("overlays") : html.index("L.control.layers")]
    names = [json.loads(f'"{n}"') for n in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', overlays)]
    assert names[:5] == ["网格问题数", "社区边界", "僵尸车", "违法建设", "非法小广告"]


def test_build_map_uses_precomputed_hexes(town):
    communities, cells, reports, _ = town
    hexes = hex_levels(reports["cell"], service_area_of(communities), resolutions=(9, 10))
    html = _render(
        build_map(
            communities,
            cells["cell"],
            reports,
            hexes=hexes,
            options=MapOptions(resolutions=(9, 10)),
        )
    )
    assert sorted(a[0]["res"] for a in _call_args(html, "HotMap.hexes")) == [9, 10]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The 20,000-report demo town."""
    from hotspot.services import ensure_store

    engine = ensure_store(new_store_url(tmp_path_factory.mktemp("demo"), "demo"))
    yield engine
    engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("days", "options"),
    [
        (30, MapOptions()),
        (30, MapOptions(colour_by="gistar", heat=True, basemap="amap")),
        (None, MapOptions(colour_by="gistar", heat=True)),
    ],
)
def test_demo_map_html_stays_under_two_megabytes(demo, days, options):
    reports_all = read_reports(demo)
    since = None
    if days:
        since = reports_all["reported_at"].max().date() - dt.timedelta(days=days - 1)
    reports = read_reports(demo, ReportFilter(layers=tuple(LAYER_NAMES), since=since))
    communities, cells = read_communities(demo), read_grid_cells(demo)
    html = _render(build_map(communities, cells["cell"], reports, options=options))
    assert len(html) < 2_000_000
    assert html.count("HotMap.points(") == len(set(reports["layer"]))


def test_basemap_selector_offers_the_configured_basemaps_and_feeds_map_options(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv(ENV_TIANDITU_KEY, "k123")
    monkeypatch.delenv(ENV_TILES_URL, raising=False)
    monkeypatch.delenv(ENV_DEFAULT, raising=False)

    def script():
        import streamlit as st

        from pages._shared import basemap_selector, map_options

        basemap_selector()
        st.write(f"basemap={map_options(heat=True).basemap} heat={map_options(heat=True).heat}")

    at = AppTest.from_function(script, default_timeout=60)
    at.run()
    assert not at.exception
    box = at.sidebar.selectbox[0]
    assert box.options == ["无底图（仅矢量）", "OpenStreetMap", "高德地图", "天地图"]
    assert "basemap=none heat=True" in at.markdown[0].value
    box.set_value("amap").run()
    assert "basemap=amap" in at.markdown[0].value


def test_map_without_reports_still_draws_the_grid_and_the_headline_layers(town):
    communities, cells, reports, _ = town
    options = MapOptions(heat=True, colour_by="gistar")
    html = _render(
        build_map(communities, cells["cell"], reports.iloc[:0], list(LAYER_NAMES), options=options)
    )
    assert html.count("HotMap.points(") == 3  # the headline layers, empty
    ((outline, _),) = _call_args(html, "HotMap.outline")
    assert decode_ints(outline["cells"]).size == 13 * len(cells)
    assert "HotMap.heat(" in html


def test_beyond_the_point_limit_neither_points_nor_heat_are_sent(town):
    communities, cells, reports, _ = town
    options = MapOptions(heat=True, max_points=10)
    html = _render(build_map(communities, cells["cell"], reports, options=options))
    assert "HotMap.points(" not in html and "HotMap.heat(" not in html
    assert "HotMap.hexes(" in html
