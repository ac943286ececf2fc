import json
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.crs import from_metric, from_wgs84, to_metric
from hotspot.cli import main
from hotspot.errors import UserError
from hotspot.intake.formats import import_format, read_report_table
from hotspot.intake.importer import RejectedFile, import_reports, rejects_path
from hotspot.store.frames import count_reports, read_reports
from tests.conftest import canonical_row, write_csv

#: A 20 m by 15 m shed (300 m²) in the west community, drawn in the metric CRS (EPSG:4548).
SHED_METRIC = shapely.box(440_300, 4_405_660, 440_320, 4_405_675)
SHED = from_metric(SHED_METRIC)
#: A 10 m by 10 m enclosed lawn in the east community, in two parts (200 m²).
LAWN = from_metric(
    shapely.MultiPolygon(
        [
            shapely.box(441_300, 4_405_880, 441_310, 4_405_890),
            shapely.box(441_330, 4_405_880, 441_340, 4_405_890),
        ]
    )
)


def feature(geometry, **properties):
    if isinstance(geometry, shapely.Geometry):
        geometry = json.loads(shapely.to_geojson(geometry))
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def point_feature(i, **changes):
    row = canonical_row(i, **changes)
    lng, lat = float(row.pop("lng")), float(row.pop("lat"))
    row["external_id"] = row.pop("id")
    return feature(shapely.Point(lng, lat), **row)


def shed_feature(geometry=SHED, **changes):
    properties = {
        "external_id": "WJ-001",
        "category": "违法建设",
        "reported_at": "2026-10-12T09:00:00",
        "status": "in_progress",
        "description": "楼顶彩钢房",
    }
    properties.update(changes)
    return feature(geometry, **properties)


def write_geojson(path, features, **members):
    document = {"type": "FeatureCollection", **members, "features": features}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


# -- CSV and XLSX ------------------------------------------------------------------------


def twelve_three_four_five(i, **changes):
    row = canonical_row(i)
    order = {
        "工单编号": row["id"],
        "小类": "废弃车辆",
        "经度": row["lng"],
        "纬度": row["lat"],
        "受理时间": row["reported_at"],
        "主要内容": f"小区门口废弃车辆 {i}",
        "地址": f"兴旺路{i}号",
        "来电人": "王五",
        "联系电话": "13700001111",
        "工单状态": "处理中",
    }
    order.update(changes)
    return order


def test_a_gbk_12345_work_order_export_is_read_by_its_chinese_headers(town_engine, tmp_path):
    rows = [twelve_three_four_five(1), twelve_three_four_five(2, 工单状态="已办结")]
    path = write_csv(tmp_path / "工单.csv", rows, encoding="gbk")
    assert path.read_bytes().decode("gb18030").startswith("工单编号")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    result = import_reports(town_engine, path)
    assert (result.imported, result.rejected) == (2, 0)
    reports = read_reports(town_engine)
    first = reports.iloc[0]
    assert first["external_id"] == "12345-00001" and first["category"] == "abandoned_vehicle"
    assert (first["description"], first["address"]) == ("小区门口废弃车辆 1", "兴旺路1号")
    assert (first["reporter_name"], first["reporter_phone"]) == ("王五", "13700001111")
    assert first["reported_at"] == pd.Timestamp(rows[0]["受理时间"])
    assert reports["status"].tolist() == ["in_progress", "resolved"]


def test_a_12345_export_with_both_class_and_subclass_uses_the_subclass(town_engine, tmp_path):
    rows = [twelve_three_four_five(1, 分类="市容环境")]
    path = write_csv(tmp_path / "工单.csv", rows, encoding="gbk")
    assert import_reports(town_engine, path).imported == 1


def test_a_csv_footprint_column_that_is_not_wkt_is_refused(town_engine, tmp_path):
    rows = [canonical_row(1, footprint_wkt="POLYGON((1 2, oops))")]
    with pytest.raises(RejectedFile, match="row 2, footprint_wkt: not WKT"):
        import_reports(town_engine, write_csv(tmp_path / "in.csv", rows))
    assert count_reports(town_engine) == 0


# -- GeoJSON -------------------------------------------------------------------------------


def test_a_footprint_polygon_is_stored_with_its_area_and_a_point_inside(town_engine, tmp_path):
    path = write_geojson(
        tmp_path / "违建.geojson",
        [shed_feature(), shed_feature(LAWN, external_id="LD-001", category="圈占绿地")],
    )
    result = import_reports(town_engine, path)
    assert (result.imported, result.footprints) == (2, 2)
    reports = read_reports(town_engine).set_index("external_id")
    shed, lawn = reports.loc["WJ-001"], reports.loc["LD-001"]
    assert shed.geometry.geom_type == "Polygon" and lawn.geometry.geom_type == "MultiPolygon"
    assert shapely.equals_exact(shed.geometry, SHED, 1e-9)
    assert shed["area_m2"] == pytest.approx(300, rel=0.01)
    assert lawn["area_m2"] == pytest.approx(200, rel=0.01)
    for report in (shed, lawn):
        assert report.geometry.contains(shapely.Point(report["lng"], report["lat"]))
    assert (shed["community"], lawn["community"]) == ("W01", "E02")
    assert (shed["category"], lawn["category"]) == ("illegal_structure", "green_encroachment")


def test_a_linestring_is_refused_naming_the_feature_and_nothing_is_imported(town_engine, tmp_path):
    line = shapely.LineString([(116.301, 39.781), (116.302, 39.782)])
    features = [point_feature(1), feature(line, **point_feature(2)["properties"])]
    path = write_geojson(tmp_path / "in.geojson", features)
    with pytest.raises(RejectedFile) as excinfo:
        import_reports(town_engine, path)
    message = str(excinfo.value)
    assert "1 of 2 features rejected, nothing imported" in message
    assert "feature 2, geometry: a LineString is not accepted" in message
    assert count_reports(town_engine) == 0
    rejects = pd.read_csv(rejects_path(path), dtype=str, keep_default_na=False)
    assert rejects[["row", "field", "value"]].values.tolist() == [["2", "geometry", "LineString"]]
    result = import_reports(town_engine, path, skip_invalid=True)
    assert (result.imported, result.rejected) == (1, 1)
    assert read_reports(town_engine)["external_id"].tolist() == ["12345-00001"]


BAD_GEOMETRIES = [
    (None, "null", "no geometry (null)"),
    (
        {
            "type": "GeometryCollection",
            "geometries": [{"type": "Point", "coordinates": [116.3, 39.78]}],
        },
        "GeometryCollection",
        "a GeometryCollection is not accepted",
    ),
    (
        {"type": "MultiPoint", "coordinates": [[116.301, 39.781], [116.302, 39.782]]},
        "MultiPoint",
        "a MultiPoint is not accepted",
    ),
    (
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [116.301, 39.781],
                    [116.302, 39.782],
                    [116.302, 39.781],
                    [116.301, 39.782],
                    [116.301, 39.781],
                ]
            ],
        },
        "Polygon",
        "invalid polygon (Self-intersection",
    ),
    ({"type": "Point", "coordinates": "116.3,39.78"}, "Point", "unreadable GeoJSON geometry"),
]


@pytest.mark.parametrize(("geometry", "value", "reason"), BAD_GEOMETRIES)
def test_other_geometries_are_refused_with_the_reason(
    town_engine, tmp_path, geometry, value, reason
):
    bad = shed_feature(external_id="WJ-002")
    bad["geometry"] = geometry
    path = write_geojson(tmp_path / "in.geojson", [shed_feature(), bad])
    with pytest.raises(RejectedFile, match=re.escape(f"feature 2, geometry: {reason}")):
        import_reports(town_engine, path)
    rejects = pd.read_csv(rejects_path(path), dtype=str, keep_default_na=False)
    assert rejects["row"].tolist() == ["2"] and rejects["field"].tolist() == ["geometry"]
    assert count_reports(town_engine) == 0


def test_a_polygon_for_a_point_category_is_refused(town_engine, tmp_path):
    path = write_geojson(tmp_path / "in.geojson", [shed_feature(category="张贴小广告")])
    with pytest.raises(RejectedFile) as excinfo:
        import_reports(town_engine, path)
    message = str(excinfo.value)
    assert "feature 1, geometry: a polygon is only accepted for a footprint category" in message
    assert "张贴小广告 is reported as a point" in message
    assert count_reports(town_engine) == 0


def test_a_point_for_a_footprint_category_is_fine(town_engine, tmp_path):
    path = write_geojson(tmp_path / "in.geojson", [point_feature(1, category="违法建设")])
    assert import_reports(town_engine, path).imported == 1
    assert pd.isna(read_reports(town_engine)["area_m2"].iloc[0])


def test_footprints_are_matched_for_relapses_and_duplicates_by_their_point(town_engine, tmp_path):
    closed = shed_feature(status="closed", closed_at="2026-10-13T17:00:00")
    import_reports(town_engine, write_geojson(tmp_path / "a.geojson", [closed]))
    shed = read_reports(town_engine).iloc[0]
    # a new report 10 m east of the shed's point, a week after it was closed: a relapse
    x, y = shapely.get_coordinates(to_metric(shapely.Point(shed["lng"], shed["lat"])))[0]
    near = from_metric(shapely.Point(x + 10, y))
    again = feature(
        near, external_id="WJ-009", category="私搭乱建", reported_at="2026-10-20T10:00:00"
    )
    twice = feature(
        near, external_id="WJ-010", category="私搭乱建", reported_at="2026-10-20T15:00:00"
    )
    result = import_reports(town_engine, write_geojson(tmp_path / "b.geojson", [again, twice]))
    assert (result.relapses, result.duplicates) == (2, 1)
    reports = read_reports(town_engine).set_index("external_id")
    assert reports.loc["WJ-009", "relapse_of"] == shed["id"]
    assert reports.loc["WJ-010", "duplicate_of"] == reports.loc["WJ-009", "id"]


def test_importing_the_same_footprints_again_adds_nothing(town_engine, tmp_path):
    path = write_geojson(tmp_path / "in.geojson", [shed_feature(), point_feature(1)])
    assert import_reports(town_engine, path).imported == 2
    again = import_reports(town_engine, path)
    assert (again.imported, again.already_imported) == (0, 2)
    assert count_reports(town_engine) == 2


def test_a_declared_crs_is_honoured_for_points_and_polygons(town_engine, tmp_path):
    x, y = from_wgs84([116.3051], [39.78502], "EPSG:4548")
    point = point_feature(1)
    point["geometry"]["coordinates"] = [x[0], y[0]]
    shed = shed_feature(json.loads(shapely.to_geojson(SHED_METRIC)))
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4548"}}
    path = write_geojson(tmp_path / "cgcs.geojson", [point, shed], crs=crs)
    result = import_reports(town_engine, path)
    assert (result.imported, result.crs) == (2, "EPSG:4548")
    reports = read_reports(town_engine).set_index("external_id")
    assert reports.loc["12345-00001", "lng"] == pytest.approx(116.3051, abs=1e-8)
    assert reports.loc["12345-00001", "zone_id"] == 1
    assert reports.loc["12345-00001", "orig_crs"] == "EPSG:4548"
    assert reports.loc["WJ-001", "area_m2"] == pytest.approx(300, rel=1e-6)
    assert shapely.equals_exact(reports.loc["WJ-001"].geometry, SHED, 1e-9)
    with pytest.raises(
        UserError, match="declares its coordinates in EPSG:4548 but --crs says gcj02"
    ):
        import_reports(town_engine, path, crs="gcj02")


def test_a_file_labelled_wgs84_can_be_read_as_gcj02(town_engine, tmp_path):
    x, y = from_wgs84([116.3051], [39.78502], "gcj02")
    point = point_feature(1)
    point["geometry"]["coordinates"] = [x[0], y[0]]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    path = write_geojson(tmp_path / "amap.geojson", [point], crs=crs)
    result = import_reports(town_engine, path, crs="gcj02")
    assert result.crs == "gcj02"
    report = read_reports(town_engine).iloc[0]
    assert report["lng"] == pytest.approx(116.3051, abs=1e-7) and report["zone_id"] == 1


UNREADABLE_JSON = [
    ("in.geojson", '{"type": "FeatureCollection", "features": [', "not valid JSON (line 1, column"),
    ("in.geojson", "[]", "not a GeoJSON FeatureCollection (a JSON list; an Open311 file?"),
    ("in.geojson", '{"type": "Topology"}', "not a GeoJSON FeatureCollection (type 'Topology')"),
    ("in.geojson", '{"type": "FeatureCollection", "features": []}', "has no features"),
    ("in.geojson", "", "the file is empty"),
    ("in.json", "[]", "the file lists no service requests"),
    ("in.json", '{"requests": 1}', "not a GeoJSON FeatureCollection (type None)"),
    ("in.open311.json", '{"service_request_id": "1"}', "not an Open311 GeoReport v2 file"),
]


@pytest.mark.parametrize(("name", "content", "reason"), UNREADABLE_JSON)
def test_unreadable_json_files_give_one_line_reasons(town_engine, tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as excinfo:
        import_reports(town_engine, path)
    assert reason in str(excinfo.value) and "\n" not in str(excinfo.value)
    assert count_reports(town_engine) == 0


def test_a_geojson_is_read_as_a_table_with_its_points(tmp_path):
    path = write_geojson(tmp_path / "in.geojson", [point_feature(1), shed_feature()])
    table = read_report_table(path)
    assert table["lng"].iloc[0] == canonical_row(1)["lng"].rstrip("0")
    shed_point = shapely.Point(float(table["lng"].iloc[1]), float(table["lat"].iloc[1]))
    assert SHED.contains(shed_point)


# -- Open311 -------------------------------------------------------------------------------

#: Three GeoReport v2 service requests as a city's Open311 server lists them.
OPEN311 = """[
  {
    "service_request_id": "BJ-2026-0001",
    "status": "open",
    "service_code": "200107",
    "service_name": "废弃车辆",
    "description": "小区门口僵尸车，落满灰尘",
    "agency_responsible": "城管执法队",
    "requested_datetime": "2026-10-03T08:15:00+08:00",
    "updated_datetime": "2026-10-03T09:00:00+08:00",
    "expected_datetime": "2026-10-10T18:00:00+08:00",
    "address": "兴旺路3号",
    "lat": 39.7831,
    "long": 116.3032,
    "media_url": null
  },
  {
    "service_request_id": "BJ-2026-0002",
    "status": "closed",
    "status_notes": "已办结",
    "service_code": "AD-01",
    "service_name": "小广告",
    "description": "电线杆上张贴小广告",
    "requested_datetime": "2026-10-04T01:30:00Z",
    "updated_datetime": "2026-10-05T02:00:00Z",
    "address": "东苑路5号",
    "lat": "39.7842",
    "long": "116.3143"
  },
  {
    "service_request_id": 638344,
    "status": "closed",
    "service_name": "私搭乱建",
    "requested_datetime": "2026-10-06T10:00:00+08:00",
    "updated_datetime": "2026-10-07T16:20:00+08:00",
    "address": null,
    "lat": 39.7855,
    "long": 116.3066
  }
]"""


def test_open311_service_requests_are_imported(town_engine, tmp_path):
    path = tmp_path / "requests.json"
    path.write_text(OPEN311, encoding="utf-8")
    assert import_format(path, None) == "json"
    result = import_reports(town_engine, path)
    assert (result.imported, result.rejected) == (3, 0)
    reports = read_reports(town_engine).set_index("external_id")
    car, ad, shed = (reports.loc[k] for k in ("BJ-2026-0001", "BJ-2026-0002", "638344"))
    # service_code 200107 is Beijing's code for 废弃车辆; AD-01 is unknown: the name decides
    assert (car["category"], ad["category"], shed["category"]) == (
        "abandoned_vehicle",
        "ad_posting",
        "illegal_structure",
    )
    assert (car["status"], ad["status"], shed["status"]) == ("new", "resolved", "closed")
    assert car["reported_at"] == pd.Timestamp("2026-10-03 08:15:00")
    assert car["due_at"] == pd.Timestamp("2026-10-10 18:00:00")
    # UTC times arrive as local (China Standard Time)
    assert ad["reported_at"] == pd.Timestamp("2026-10-04 09:30:00")
    assert ad["resolved_at"] == pd.Timestamp("2026-10-05 10:00:00") and pd.isna(ad["closed_at"])
    assert shed["closed_at"] == pd.Timestamp("2026-10-07 16:20:00")
    assert (car["lng"], car["lat"]) == (116.3032, 39.7831)
    assert ad["lng"] == pytest.approx(116.3143)
    assert (car["description"], car["address"]) == ("小区门口僵尸车，落满灰尘", "兴旺路3号")
    assert pd.isna(shed["address"])


def test_open311_times_with_different_offsets_are_all_read(town_engine, tmp_path):
    requests = json.loads(OPEN311)[:2]
    requests[0]["requested_datetime"] = "2026-10-03T08:15:00+08:00"
    requests[1]["requested_datetime"] = "2026-10-03T17:15:00-07:00"
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests), encoding="utf-8")
    assert import_reports(town_engine, path).imported == 2
    times = read_reports(town_engine)["reported_at"].tolist()
    assert times == [pd.Timestamp("2026-10-03 08:15:00"), pd.Timestamp("2026-10-04 08:15:00")]


def test_an_open311_entry_that_is_not_a_request_is_refused(town_engine, tmp_path):
    requests = json.loads(OPEN311)
    requests[1] = "BJ-2026-0002"
    requests[2]["service_name"] = "飞碟降落"
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(
        RejectedFile, match=r"2 of 3 requests rejected.*request 2, request: not a JSON"
    ):
        import_reports(town_engine, path)
    rejects = pd.read_csv(rejects_path(path), dtype=str, keep_default_na=False)
    assert "3" in rejects["row"].tolist()
    assert rejects.loc[rejects["row"] == "3", "field"].tolist() == ["category"]
    assert count_reports(town_engine) == 0


def test_open311_statuses_other_than_open_or_closed_are_refused(town_engine, tmp_path):
    requests = json.loads(OPEN311)[:1]
    requests[0]["status"] = "pending"
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests), encoding="utf-8")
    with pytest.raises(RejectedFile, match="request 1, status: unknown status"):
        import_reports(town_engine, path)


# -- GeoPackage ------------------------------------------------------------------------------


def write_layer(path, frame, layer):
    frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")


def test_a_gpkg_point_layer_is_imported_in_its_declared_crs(town_engine, tmp_path):
    x, y = from_wgs84([116.3051, 116.3151], [39.78502, 39.7851], "EPSG:4548")
    frame = gpd.GeoDataFrame(
        {
            "工单编号": ["GP-1", "GP-2"],
            "小类": ["废弃车辆", "私搭乱建"],
            "上报时间": pd.to_datetime(["2026-10-01 08:00", "2026-10-02 09:30"]),
            "地址": ["兴旺路1号", None],
        },
        geometry=shapely.points(x, y),
        crs="EPSG:4548",
    )
    path = tmp_path / "patrol.gpkg"
    write_layer(path, frame, "巡查点位")
    result = import_reports(town_engine, path)
    assert (result.imported, result.crs) == (2, "EPSG:4548")
    reports = read_reports(town_engine)
    assert reports["external_id"].tolist() == ["GP-1", "GP-2"]
    assert reports["lng"].tolist() == pytest.approx([116.3051, 116.3151], abs=1e-8)
    assert reports["reported_at"].iloc[1] == pd.Timestamp("2026-10-02 09:30")
    assert reports["zone_id"].iloc[0] == 1 and pd.isna(reports["address"].iloc[1])


def test_a_gpkg_with_several_layers_asks_for_one(town_engine, tmp_path, capsys):
    points = gpd.GeoDataFrame(
        {"id": ["A-1"], "category": ["僵尸车"], "reported_at": ["2026-10-01 08:00:00"]},
        geometry=[shapely.Point(116.3051, 39.78502)],
        crs="EPSG:4326",
    )
    path = tmp_path / "two.gpkg"
    write_layer(path, points, "points_a")
    write_layer(path, points.assign(id=["B-1"]), "points_b")
    with pytest.raises(UserError, match=r"several layers \(points_a \(Point\), points_b"):
        import_reports(town_engine, path)
    with pytest.raises(UserError, match="no layer 'nope'"):
        import_reports(town_engine, path, layer="nope")
    assert main(["import", str(path), "--layer", "points_b", "--db", str(town_engine.url)]) == 0
    assert "imported 1" in capsys.readouterr().out
    assert read_reports(town_engine)["external_id"].tolist() == ["B-1"]


def test_a_file_that_is_not_a_gpkg_says_so(town_engine, tmp_path):
    path = tmp_path / "fake.gpkg"
    path.write_text("id,category\n1,僵尸车\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"fake\.gpkg: not a readable GeoPackage"):
        import_reports(town_engine, path)


# -- formats and options ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("a.csv", None, "csv"),
        ("a.txt", None, "csv"),
        ("a", None, "csv"),
        ("a.xlsx", None, "xlsx"),
        ("a.geojson", None, "geojson"),
        ("a.gpkg", None, "gpkg"),
        ("a.json", None, "json"),
        ("a.open311.json", None, "open311"),
        ("a.dat", "GeoPackage", "gpkg"),
        ("a.csv", "open311", "open311"),
    ],
)
def test_the_import_format_comes_from_the_option_or_the_name(tmp_path, name, fmt, expected):
    assert import_format(tmp_path / name, fmt) == expected


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["x.dat"], "unsupported import format 'dat'"),
        (["x.csv", "--format", "shapefile"], "format 'shapefile' is not supported here"),
        (["x.csv", "--layer", "reports"], "--layer applies to GeoPackage files only"),
    ],
)
def test_import_option_mistakes_exit_2_with_one_line(town_engine, tmp_path, capsys, args, reason):
    (tmp_path / args[0]).write_text("id\n1\n", encoding="utf-8")
    args = ["import", str(tmp_path / args[0]), *args[1:], "--db", str(town_engine.url)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert reason in err and "\n" not in err


def test_a_file_imported_again_in_the_same_process_adds_nothing(town_engine, tmp_path):
    # Each bulk load goes through ADBC's own SQLite; the engine's pooled connections
    # must not keep reading pages from before it (they would miss the loaded ids).
    import_reports(town_engine, write_csv(tmp_path / "a.csv", [canonical_row(i) for i in range(6)]))
    again = write_csv(tmp_path / "b.csv", [canonical_row(7)])
    import_reports(town_engine, again)
    import_reports(town_engine, write_csv(tmp_path / "c.csv", [canonical_row(8)]))
    result = import_reports(town_engine, again)
    assert (result.imported, result.already_imported) == (0, 1)
    assert count_reports(town_engine) == 8
