import json

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.cells import GRID_RES, cells_from_strings
from geo.crs import from_metric, from_wgs84, to_metric
from hotspot.cli import main
from hotspot.errors import UserError
from hotspot.filters import ReportFilter
from hotspot.intake.export import export_reports
from hotspot.intake.formats import XLSX_HEADERS
from hotspot.intake.importer import import_reports
from hotspot.store.engine import open_store
from hotspot.store.frames import count_reports, read_grid_cells, read_reports
from tests.conftest import canonical_row, write_csv, write_small_town
from tests.stores import new_store_url

FORMATS = {"geojson": "out.geojson", "gpkg": "out.gpkg", "csv": "out.csv", "xlsx": "out.xlsx"}
FORMATS["open311"] = "out.open311.json"
#: A 20 m by 15 m shed (300 m²) in the west community, drawn in the metric CRS.
SHED = from_metric(shapely.box(440_300, 4_405_660, 440_320, 4_405_675))


def fresh_town(tmp_path, name):
    engine = open_store(new_store_url(tmp_path, name.removesuffix(".db")))
    write_small_town(engine)
    return engine


def feature_collection(features, **members):
    return {"type": "FeatureCollection", **members, "features": features}


def feature(geometry, **properties):
    if isinstance(geometry, shapely.Geometry):
        geometry = json.loads(shapely.to_geojson(geometry))
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def write_json(path, document):
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def filled(town_engine, tmp_path):
    """The tiny town with reports in every status, a footprint and a GCJ-02 report."""
    rows = [
        canonical_row(1, reporter_name="李四", reporter_phone="13912345678"),
        canonical_row(2, category="张贴小广告", status="dispatched", source="网格巡查"),
        canonical_row(3, status="in_progress", due_at="2026-10-20 18:00:00"),
        canonical_row(4, status="resolved", resolved_at="2026-10-06 10:00:00"),
        canonical_row(
            5,
            category="私设地锁",
            status="closed",
            resolved_at="2026-10-07 10:00:00",
            closed_at="2026-10-08 11:30:00",
        ),
        canonical_row(6, status="rejected", id="", description="无效工单"),
    ]
    assert import_reports(town_engine, write_csv(tmp_path / "a.csv", rows)).imported == 6
    x, y = from_wgs84([116.3151], [39.7851], "gcj02")
    gcj = canonical_row(7, lng=f"{x[0]:.9f}", lat=f"{y[0]:.9f}", category="飞线充电")
    source = write_csv(tmp_path / "gcj.csv", [gcj])
    assert import_reports(town_engine, source, crs="gcj02").imported == 1
    shed = feature(
        SHED,
        external_id="WJ-2026-001",
        category="违法建设",
        reported_at="2026-10-12T09:00:00",
        status="in_progress",
        description="楼顶彩钢房",
        address="兴旺路8号",
    )
    path = write_json(tmp_path / "shed.geojson", feature_collection([shed]))
    result = import_reports(town_engine, path)
    assert (result.imported, result.footprints) == (1, 1)
    return town_engine


COMPARED = [
    "external_id",
    "category",
    "status",
    "reported_at",
    "due_at",
    "resolved_at",
    "closed_at",
    "description",
    "address",
    "source",
    "reporter_name",
    "reporter_phone",
    "orig_crs",
    "community",
    "zone_id",
    "cell",
]


def assert_same_reports(before, after):
    assert len(after) == len(before)
    before = before.sort_values("reported_at").reset_index(drop=True)
    after = after.sort_values("reported_at").reset_index(drop=True)
    for column in COMPARED:
        pd.testing.assert_series_equal(after[column], before[column], check_dtype=False, obj=column)
    for column in ("lng", "lat", "orig_x", "orig_y"):
        np.testing.assert_allclose(after[column], before[column], atol=1e-6, err_msg=column)
    np.testing.assert_allclose(after["area_m2"], before["area_m2"], rtol=1e-9)
    types = shapely.get_type_id(after.geometry.to_numpy())
    assert types.tolist() == shapely.get_type_id(before.geometry.to_numpy()).tolist()
    assert shapely.equals_exact(after.geometry.to_numpy(), before.geometry.to_numpy(), 1e-9).all()


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_round_trips_the_reports_into_a_fresh_store(filled, tmp_path, fmt):
    out = tmp_path / FORMATS[fmt]
    assert export_reports(filled, out) == 8
    target = fresh_town(tmp_path, "target.db")
    result = import_reports(target, out)
    assert (result.imported, result.rejected, result.footprints) == (8, 0, 1)
    after = read_reports(target)
    assert_same_reports(read_reports(filled), after)
    shed = after[after["category"] == "illegal_structure"].iloc[0]
    assert shed.geometry.geom_type == "Polygon"
    assert shed["area_m2"] == pytest.approx(300, rel=0.01)
    # the export of a store imports back into it as nothing new: idempotent by external id
    again = import_reports(filled, out, skip_invalid=True)
    assert again.already_imported == 7


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_the_command_line_exports_and_imports_each_format(filled, tmp_path, fmt, capsys):
    source_db = str(filled.url)
    out = tmp_path / f"cli.{fmt}"
    assert main(["export", str(out), "--format", fmt, "--db", source_db]) == 0
    assert f"exported 8 reports to {out}" in capsys.readouterr().out
    target = fresh_town(tmp_path, "cli-target.db")
    assert main(["import", str(out), "--format", fmt, "--db", str(target.url)]) == 0
    printed = capsys.readouterr().out
    assert "imported 8, rejected 0, already imported 0" in printed
    assert "footprints 1" in printed
    assert_same_reports(read_reports(filled), read_reports(target))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_takes_the_page_filters(filled, tmp_path, fmt):
    out = tmp_path / FORMATS[fmt]
    filters = ReportFilter(layers=("illegal_construction",), statuses=("in_progress", "closed"))
    assert export_reports(filled, out, filters=filters) == 2
    target = fresh_town(tmp_path, "target.db")
    assert import_reports(target, out).imported == 2
    assert sorted(read_reports(target)["category"]) == ["illegal_structure", "private_parking_lock"]


def test_xlsx_export_has_chinese_headers_and_values_and_no_formulas(town_engine, tmp_path):
    rows = [
        canonical_row(1, address='=HYPERLINK("http://evil.example","点我")', description="+1"),
        canonical_row(2, status="closed", source="网格巡查"),
    ]
    import_reports(town_engine, write_csv(tmp_path / "in.csv", rows))
    out = tmp_path / "out.xlsx"
    assert export_reports(town_engine, out) == 2
    sheet = openpyxl.load_workbook(out).active
    header = [cell.value for cell in sheet[1]]
    assert header[:8] == [
        "系统编号",
        "工单编号",
        "类别代码",
        "小类",
        "图层",
        "工单状态",
        "上报时间",
        "社区",
    ]
    assert set(header) <= set(XLSX_HEADERS.values())
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    record = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert record["地址"] == '\'=HYPERLINK("http://evil.example","点我")'
    assert record["问题描述"] == "'+1"
    assert (record["小类"], record["图层"], record["工单状态"]) == ("废弃车辆", "僵尸车", "待派遣")
    assert record["经度"] == pytest.approx(float(rows[0]["lng"]))
    assert record["上报时间"] == pd.Timestamp(rows[0]["reported_at"]).to_pydatetime()
    second = dict(zip(header, [cell.value for cell in sheet[3]], strict=True))
    assert (second["工单状态"], second["来源"]) == ("核查结案", "网格巡查")


def test_gpkg_export_opens_as_layers_in_wgs84_with_counts(filled, tmp_path):
    out = tmp_path / "town.gpkg"
    export_reports(filled, out)
    layers = dict(pyogrio.list_layers(out).tolist())
    assert layers == {
        "reports": "Point",
        "report_footprints": "Polygon",
        "storefront_zones": "Polygon",
        "communities": "Polygon",
        "grid_cells": "Polygon",
    }
    read = {name: pyogrio.read_dataframe(out, layer=name) for name in layers}
    for name, frame in read.items():
        assert pyogrio.read_info(out, layer=name)["crs"] == "EPSG:4326", name
        assert frame.geometry.notna().all() and frame.geometry.is_valid.all(), name
    reports = read["reports"]
    assert len(reports) == 8 and reports["category_name"].notna().all()
    assert pd.api.types.is_datetime64_any_dtype(reports["reported_at"])
    assert (reports["reporter_name"] == "李四").sum() == 1
    footprint = read["report_footprints"]
    assert footprint["area_m2"].tolist() == pytest.approx([300], rel=0.01)
    assert footprint["report_id"].tolist() == reports.loc[reports["area_m2"].notna(), "id"].tolist()
    assert read["communities"]["code"].tolist() == ["E02", "W01"]
    assert read["communities"]["reports"].sum() == 8
    assert read["storefront_zones"]["shop_name"].tolist() == ["老王烧烤"]
    cells = read["grid_cells"]
    assert len(cells) == len(read_grid_cells(filled)) and cells["reports"].sum() == 8
    # each cell polygon is the hexagon of its H3 index
    centres = shapely.centroid(cells.geometry.to_numpy())
    from geo.cells import cells_from_points

    found = cells_from_points(shapely.get_x(centres), shapely.get_y(centres), res=GRID_RES)
    assert (found == cells_from_strings(cells["cell"].to_numpy())).all()


def test_gpkg_export_for_one_community_keeps_its_zones_and_cells(filled, tmp_path):
    out = tmp_path / "west.gpkg"
    count = export_reports(filled, out, filters=ReportFilter(community="W01"))
    assert count == len(read_reports(filled, ReportFilter(community="W01")))
    communities = pyogrio.read_dataframe(out, layer="communities")
    assert communities["code"].tolist() == ["W01"]
    cells = pyogrio.read_dataframe(out, layer="grid_cells")
    assert set(cells["community"]) == {"W01"}


def test_an_empty_export_still_writes_every_layer(town_engine, tmp_path):
    out = tmp_path / "empty.gpkg"
    assert export_reports(town_engine, out) == 0
    layers = dict(pyogrio.list_layers(out).tolist())
    assert layers["reports"] == "Point" and layers["report_footprints"] == "MultiPolygon"


def test_open311_export_maps_statuses_to_open_and_closed(filled, tmp_path):
    out = tmp_path / "requests.json"
    export_reports(filled, out, fmt="open311")
    requests = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(requests, list) and len(requests) == 8
    by_status = {r["status_notes"]: r for r in requests}
    kinds = {note: r["status"] for note, r in by_status.items()}
    assert kinds == {
        "待派遣": "open",
        "已派遣": "open",
        "整改中": "open",
        "已整改": "closed",
        "核查结案": "closed",
        "不予立案": "closed",
    }
    lock = next(r for r in requests if r["service_code"] == "private_parking_lock")
    assert lock["service_name"] == "私设地锁"
    assert lock["requested_datetime"].endswith("+08:00")
    assert lock["updated_datetime"] == "2026-10-08T11:30:00+08:00"
    assert isinstance(lock["lat"], float) and isinstance(lock["long"], float)
    shed = next(r for r in requests if r["service_code"] == "illegal_structure")
    assert shed["extended_attributes"]["geometry"]["type"] == "Polygon"
    assert shed["service_request_id"] == "WJ-2026-001"
    no_id = next(r for r in requests if r["status_notes"] == "不予立案")
    assert no_id["extended_attributes"]["external_id"] is None


def test_csv_export_carries_footprints_as_wkt(filled, tmp_path):
    out = tmp_path / "out.csv"
    export_reports(filled, out)
    table = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    polygons = table.loc[table["footprint_wkt"] != "", "footprint_wkt"]
    assert len(polygons) == 1
    area = to_metric(shapely.from_wkt(polygons.iloc[0])).area
    assert area == pytest.approx(300, rel=0.01)


def test_export_names_its_format_problems(town_engine, tmp_path):
    with pytest.raises(UserError, match="cannot tell the format"):
        export_reports(town_engine, tmp_path / "out.shp")
    with pytest.raises(UserError, match="not supported"):
        export_reports(town_engine, tmp_path / "out.csv", fmt="kml")
    with pytest.raises(UserError, match="no such directory"):
        export_reports(town_engine, tmp_path / "nope" / "out.csv")
    assert count_reports(town_engine) == 0
