import json

import pandas as pd
import pytest

from hotspot.errors import UserError
from hotspot.intake.export import export_reports
from hotspot.intake.importer import RejectedFile, import_reports, rejects_path
from hotspot.store.frames import count_reports, read_reports
from tests.conftest import canonical_row, write_csv


def _import(engine, path, **kw):
    return import_reports(engine, path, **kw)


def test_import_then_geojson_export_keeps_every_field(town_engine, tmp_path):
    rows = [
        canonical_row(1),
        canonical_row(
            2,
            category="张贴小广告",
            status="整改中",
            source="网格巡查",
            reporter_name="李四",
            reporter_phone="13912345678",
        ),
        canonical_row(3, category="僵尸车", status="closed", address="", description=""),
    ]
    source = write_csv(tmp_path / "in.csv", rows)
    result = _import(town_engine, source)
    assert (result.imported, result.rejected, result.already_imported) == (3, 0, 0)
    out = tmp_path / "out.geojson"
    assert export_reports(town_engine, out) == 3
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    by_id = {f["properties"]["external_id"]: f for f in features}
    for row in rows:
        props = by_id[row["id"]]["properties"]
        geometry = by_id[row["id"]]["geometry"]
        assert geometry["type"] == "Point"
        assert geometry["coordinates"] == pytest.approx([float(row["lng"]), float(row["lat"])])
        assert props["lng"] == pytest.approx(float(row["lng"]))
        assert props["reported_at"] == pd.Timestamp(row["reported_at"]).isoformat()
        assert props["description"] == (row["description"] or None)
        assert props["address"] == (row["address"] or None)
        assert props["community"] in ("W01", "E02")
    assert by_id["12345-00001"]["properties"]["category"] == "abandoned_vehicle"
    second = by_id["12345-00002"]["properties"]
    assert second["category_name"] and second["layer"] == "ad_posting"
    assert (second["status"], second["source"]) == ("in_progress", "patrol")
    assert (second["reporter_name"], second["reporter_phone"]) == ("李四", "13912345678")
    assert by_id["12345-00003"]["properties"]["layer"] == "zombie_cars"
    for name in ("id", "category_name", "layer", "cell", "orig_crs"):
        assert name in second


def test_import_attributes_community_zone_and_cell(town_engine, tmp_path):
    rows = [
        canonical_row(1, lng="116.305100", lat="39.785020"),  # inside the shop's zone, west
        canonical_row(2, lng="116.315000", lat="39.785000"),  # east community
    ]
    _import(town_engine, write_csv(tmp_path / "in.csv", rows))
    reports = read_reports(town_engine)
    assert reports["community"].tolist() == ["W01", "E02"]
    assert reports["zone_id"].tolist()[0] == 1 and pd.isna(reports["zone_id"].tolist()[1])
    export_reports(town_engine, tmp_path / "out.geojson")
    features = json.loads((tmp_path / "out.geojson").read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["zone_id"] for f in features] == [1, None]
    assert isinstance(features[0]["properties"]["zone_id"], int)
    assert (reports["cell"] > 0).all()


def test_importing_the_same_file_twice_adds_nothing(town_engine, tmp_path):
    path = write_csv(tmp_path / "in.csv", [canonical_row(i) for i in range(5)])
    assert _import(town_engine, path).imported == 5
    again = _import(town_engine, path)
    assert (again.imported, again.already_imported) == (0, 5)
    assert count_reports(town_engine) == 5


BAD_ROWS = [
    ({"lng": ""}, "lng", "missing"),
    ({"lat": "abc"}, "lat", "not a number"),
    ({"lng": "39.785", "lat": "116.305"}, "lng", "look swapped"),
    ({"lng": "116.400", "lat": "39.785"}, "lng", "outside the service area by"),
    ({"category": "小广吿"}, "category", "unknown category; did you mean"),
    ({"reported_at": "yesterday-ish"}, "reported_at", "not a date"),
    ({"reported_at": "2099-01-01 00:00:00"}, "reported_at", "in the future"),
    ({"status": "飞走了"}, "status", "unknown status"),
    ({"source": "天上掉下来"}, "source", "unknown source"),
    ({"description": "长" * 5000}, "description", "longer than 4000 characters"),
]


@pytest.mark.parametrize(("change", "field", "reason"), BAD_ROWS)
def test_a_bad_row_rejects_the_whole_file_with_its_row_field_and_reason(
    town_engine, tmp_path, change, field, reason
):
    rows = [canonical_row(1), canonical_row(2, **change), canonical_row(3)]
    path = write_csv(tmp_path / "in.csv", rows)
    with pytest.raises(RejectedFile) as excinfo:
        _import(town_engine, path)
    message = str(excinfo.value)
    assert "\n" not in message
    assert f"row 3, {field}: " in message and reason in message
    assert count_reports(town_engine) == 0
    rejects = pd.read_csv(rejects_path(path), dtype=str, keep_default_na=False)
    assert list(rejects.columns) == ["row", "field", "value", "reason"]
    assert rejects["row"].tolist() == ["3"]
    assert rejects.loc[0, "field"] == field and reason in rejects.loc[0, "reason"]


def test_repeated_ids_in_a_file_are_rejected_naming_the_first_row(town_engine, tmp_path):
    path = write_csv(tmp_path / "in.csv", [canonical_row(1), canonical_row(2, id="12345-00001")])
    with pytest.raises(RejectedFile, match="repeats the id of row 2"):
        _import(town_engine, path)


def test_skip_invalid_imports_the_good_rows_and_lists_every_bad_one(town_engine, tmp_path):
    rows = [canonical_row(i) for i in range(6)]
    rows[1]["lat"] = ""
    rows[4]["category"] = "nonsense"
    rows[4]["lng"] = "x"
    path = write_csv(tmp_path / "in.csv", rows)
    result = _import(town_engine, path, skip_invalid=True)
    assert (result.imported, result.rejected) == (4, 2)
    rejects = pd.read_csv(result.rejects_file, dtype=str)
    assert rejects[["row", "field"]].values.tolist() == [
        ["3", "lat"],
        ["6", "category"],
        ["6", "lng"],
    ]
    assert count_reports(town_engine) == 4


def test_dry_run_validates_and_writes_nothing(town_engine, tmp_path):
    result = _import(town_engine, write_csv(tmp_path / "in.csv", [canonical_row(1)]), dry_run=True)
    assert (result.valid, result.imported) == (1, 0)
    assert count_reports(town_engine) == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_chinese_csv_is_read_in_any_common_encoding(town_engine, tmp_path, encoding):
    rows = [canonical_row(1, category="废弃车辆", description="楼下僵尸车，轮胎没气")]
    path = write_csv(tmp_path / "in.csv", rows, encoding=encoding)
    assert _import(town_engine, path).imported == 1
    assert read_reports(town_engine).loc[0, "description"] == "楼下僵尸车，轮胎没气"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"id,category,lng,lat,reported_at\n", "no data rows"),
        (b"\x00\x01\x02binary", "binary data"),
        (b"id,category,lng\n1,abandoned_vehicle,116.3\n", "missing column(s) lat, reported_at"),
    ],
)
def test_unreadable_files_give_one_clear_reason(town_engine, tmp_path, content, reason):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UserError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        _import(town_engine, path)
    assert count_reports(town_engine) == 0


def test_chinese_headers_of_a_12345_export_are_matched(town_engine, tmp_path):
    row = canonical_row(1)
    chinese = {
        "工单编号": row["id"],
        "小类": "废弃车辆",
        "经度": row["lng"],
        "纬度": row["lat"],
        "受理时间": row["reported_at"],
        "主要内容": "废弃车辆",
        "地址": "兴旺路1号",
        "来电人": "王五",
        "联系电话": "13700001111",
        "工单状态": "已派遣",
    }
    assert (
        _import(town_engine, write_csv(tmp_path / "w.csv", [chinese], encoding="gbk")).imported == 1
    )
    report = read_reports(town_engine).iloc[0]
    assert (report["external_id"], report["status"], report["reporter_name"]) == (
        row["id"],
        "dispatched",
        "王五",
    )


def test_map_option_overrides_a_header(town_engine, tmp_path):
    row = canonical_row(1)
    row["X坐标"] = row.pop("lng")
    path = write_csv(tmp_path / "in.csv", [row])
    assert _import(town_engine, path, overrides={"lng": "X坐标"}).imported == 1
    with pytest.raises(UserError, match="no column 'nope'"):
        _import(town_engine, path, overrides={"lng": "nope"})


def test_csv_export_neutralises_spreadsheet_formulas(town_engine, tmp_path):
    rows = [canonical_row(1, description='=HYPERLINK("http://x")', address="@SUM(A1)")]
    _import(town_engine, write_csv(tmp_path / "in.csv", rows))
    out = tmp_path / "out.csv"
    export_reports(town_engine, out)
    exported = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert exported.loc[0, "description"].startswith("'=")
    assert exported.loc[0, "address"] == "'@SUM(A1)"
    assert float(exported.loc[0, "lng"]) > 0


CRS_CASES = ["gcj02", "bd09", "cgcs2000", "EPSG:4548", "EPSG:32650"]


@pytest.mark.parametrize("crs", CRS_CASES)
def test_import_converts_each_crs_to_wgs84_and_keeps_the_original(town_engine, tmp_path, crs):
    from geo.crs import from_wgs84, normalize_crs

    lng, lat = 116.3051, 39.78502  # inside the shop's zone
    x, y = from_wgs84([lng], [lat], crs)
    row = canonical_row(1, lng=f"{x[0]:.9f}", lat=f"{y[0]:.9f}")
    result = _import(town_engine, write_csv(tmp_path / "in.csv", [row]), crs=crs)
    assert result.imported == 1
    report = read_reports(town_engine).iloc[0]
    # within a centimetre of where it was
    assert abs(report["lng"] - lng) * 85_000 < 0.01 and abs(report["lat"] - lat) * 111_000 < 0.01
    assert report["orig_crs"] == normalize_crs(crs)
    assert report["orig_x"] == pytest.approx(x[0]) and report["orig_y"] == pytest.approx(y[0])
    assert report["community"] == "W01" and report["zone_id"] == 1


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "EPSG:4548"])
def test_swapped_coordinates_are_named_in_any_crs(town_engine, tmp_path, crs):
    from geo.crs import from_wgs84

    x, y = from_wgs84([116.3051], [39.7852], crs)
    row = canonical_row(1, lng=f"{y[0]:.6f}", lat=f"{x[0]:.6f}")
    with pytest.raises(RejectedFile, match="lng and lat look swapped"):
        _import(town_engine, write_csv(tmp_path / "in.csv", [row]), crs=crs)
    assert count_reports(town_engine) == 0


def test_wgs84_import_does_not_duplicate_lng_lat_as_original_coordinates(town_engine, tmp_path):
    _import(town_engine, write_csv(tmp_path / "in.csv", [canonical_row(1)]))
    report = read_reports(town_engine).iloc[0]
    assert report["orig_crs"] == "wgs84" and pd.isna(report["orig_x"])


def test_an_import_that_fails_while_writing_leaves_the_store_and_its_indexes_as_they_were(
    town_engine, tmp_path, monkeypatch
):
    import adbc_driver_manager.dbapi
    from sqlalchemy import inspect

    from hotspot.store.bulk import BulkLoader

    _import(town_engine, write_csv(tmp_path / "a.csv", [canonical_row(1)]))
    before = {ix["name"] for ix in inspect(town_engine).get_indexes("report")}

    def crash(self, *args, **kwargs):
        raise RuntimeError("disk unplugged")

    if town_engine.dialect.name == "sqlite":  # in the ADBC writer, its indexes dropped
        monkeypatch.setattr(adbc_driver_manager.dbapi.Cursor, "adbc_ingest", crash)
    else:  # once the rows went in

        def append_then_crash(self, frame):
            append(self, frame)
            crash(self)

        append = BulkLoader.append
        monkeypatch.setattr(BulkLoader, "append", append_then_crash)
    with pytest.raises(RuntimeError, match="disk unplugged"):
        _import(town_engine, write_csv(tmp_path / "b.csv", [canonical_row(i) for i in range(2, 9)]))
    assert count_reports(town_engine) == 1
    town_engine.dispose()
    assert {ix["name"] for ix in inspect(town_engine).get_indexes("report")} == before
    assert "ix_report_external_id" in before
