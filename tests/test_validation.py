"""Per-row validation, file reading, atomic and idempotent imports (issue 6, item 2)."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from sqlalchemy import inspect, select, text

from geo.dms import parse_dms
from hotspot.cli import main
from hotspot.errors import UserError
from hotspot.intake.importer import RejectedFile, import_reports, rejects_path
from hotspot.intake.reports import _TEXT_LIMITS
from hotspot.intake.tables import read_csv_table, read_xlsx_table
from hotspot.store import schema
from hotspot.store.frames import count_reports, read_reports
from tests.conftest import canonical_row, write_csv

ROOT = Path(__file__).resolve().parents[1]


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _count(engine) -> int:
    """Reports in the store, on a new connection: after an import through the command in
    this process, pooled connections can read an old state of the SQLite file."""
    engine.dispose()
    return count_reports(engine)


def _rejects(path: Path) -> pd.DataFrame:
    return pd.read_csv(rejects_path(path), dtype=str, keep_default_na=False)


def _one_bad_row(engine, tmp_path, **change) -> pd.Series:
    """Import a file whose second row has ``change``; return that row's (only) reject."""
    path = write_csv(tmp_path / "in.csv", [canonical_row(1), canonical_row(2, **change)])
    with pytest.raises(RejectedFile):
        import_reports(engine, path)
    rejects = _rejects(path)
    assert rejects["row"].tolist() == ["3"], rejects
    assert count_reports(engine) == 0
    return rejects.iloc[0]


# --- degree-minute-second coordinates ------------------------------------------------


@pytest.mark.parametrize(
    ("written", "degrees"),
    [
        ("116°18'30.5\"E", 116 + 18 / 60 + 30.5 / 3600),
        ("116° 18′ 30.5″ E", 116 + 18 / 60 + 30.5 / 3600),
        ("E116°18.5'", 116 + 18.5 / 60),
        ("39°47'06\"N", 39 + 47 / 60 + 6 / 3600),
        ("39°30'S", -39.5),
        ("-116°18'", -(116 + 18 / 60)),
        ("116.3085°E", 116.3085),
        ("N39.785", 39.785),
        ("东经116度18分30.5秒", 116 + 18 / 60 + 30.5 / 3600),
        ("北纬39度47分6秒", 39 + 47 / 60 + 6 / 3600),
        ("116d18m30.5s W", -(116 + 18 / 60 + 30.5 / 3600)),
    ],
)
def test_dms_text_is_read_as_decimal_degrees(written, degrees):
    parsed = parse_dms([written])
    assert parsed.degrees[0] == pytest.approx(degrees, abs=1e-12)


@pytest.mark.parametrize(
    "written",
    ["116°60'00\"E", "116°18'60\"E", "116.5°30'E", "E116°18'W", "-116°18'E", "116°18'x"],
)
def test_malformed_dms_text_is_no_number(written):
    parsed = parse_dms([written])
    assert np.isnan(parsed.degrees[0])


def test_dms_parse_flags_degree_text_that_is_malformed_but_not_other_text():
    parsed = parse_dms(["116°61'E", "abc", "", "116.3"])
    assert parsed.shaped.tolist() == [True, False, False, False]
    assert parsed.hemisphere.tolist() == ["E", "", "", ""]


def test_a_12345_export_with_dms_coordinates_imports_at_the_right_place(town_engine, tmp_path):
    rows = [
        canonical_row(1, lng="116°18'18.36\"E", lat="39°47'06.07\"N"),
        canonical_row(2, lng="东经116度18分30秒", lat="北纬39度47分10秒"),
    ]
    result = import_reports(town_engine, write_csv(tmp_path / "in.csv", rows))
    assert result.imported == 2
    reports = read_reports(town_engine).sort_values("external_id")
    assert reports["lng"].tolist() == pytest.approx([116.30510, 116 + 18 / 60 + 30 / 3600])
    assert reports["lat"].tolist() == pytest.approx([39.785019, 39 + 47 / 60 + 10 / 3600])
    assert reports["community"].tolist() == ["W01", "W01"]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"lng": "116°61'00\"E"}, "lng", "not a valid degree-minute-second coordinate"),
        ({"lat": "39°47'60\"N"}, "lat", "not a valid degree-minute-second coordinate"),
        ({"lng": "39°47'06\"N", "lat": "116°18'30\"E"}, "lng", "lng and lat look swapped"),
        ({"lng": "39°47'06\"N"}, "lng", "hemisphere N belongs to a latitude"),
        ({"lat": "116°18'30\"E"}, "lat", "hemisphere E belongs to a longitude"),
        ({"lng": "116°18'30\"W"}, "lng", "outside the service area by"),
    ],
)
def test_bad_dms_values_are_named(town_engine, tmp_path, change, field, reason):
    reject = _one_bad_row(town_engine, tmp_path, **change)
    assert reject["field"] == field and reason in reject["reason"]


def test_full_width_digits_are_numbers(town_engine, tmp_path):
    row = canonical_row(1, lng="１１６．３０５", lat="３９．７８５")
    assert import_reports(town_engine, write_csv(tmp_path / "in.csv", [row])).imported == 1
    assert read_reports(town_engine).loc[0, "lng"] == pytest.approx(116.305)


# --- required fields, "no value" words ------------------------------------------------


@pytest.mark.parametrize("word", ["nan", "NaN", "NULL", "null", "None", "N/A", "#N/A", "NaT"])
@pytest.mark.parametrize("field", ["category", "lng", "lat", "reported_at"])
def test_no_value_words_in_a_required_field_are_missing(town_engine, tmp_path, word, field):
    reject = _one_bad_row(town_engine, tmp_path, **{field: word})
    assert (reject["field"], reject["value"]) == (field, word)
    assert reject["reason"] == f'missing ("{word}" is no value)'


def test_no_value_words_in_optional_fields_are_stored_as_empty(town_engine, tmp_path):
    row = canonical_row(1, description="NULL", address="nan", status="None", source="N/A")
    import_reports(town_engine, write_csv(tmp_path / "in.csv", [row]))
    report = read_reports(town_engine).iloc[0]
    assert pd.isna(report["description"]) and pd.isna(report["address"])
    assert report["status"] == "new" and pd.isna(report["source"])


def test_an_empty_required_field_is_missing(town_engine, tmp_path):
    reject = _one_bad_row(town_engine, tmp_path, reported_at="   ")
    assert (reject["field"], reject["reason"]) == ("reported_at", "missing")


# --- dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026年10月1日 8时05分", "2026-10-01 08:05:00"),
        ("2026年10月1日", "2026-10-01 00:00:00"),
        ("2026/10/1 8:05", "2026-10-01 08:05:00"),
        ("20261001", "2026-10-01 00:00:00"),
        ("2026-10-01T08:05:00+08:00", "2026-10-01 08:05:00"),
    ],
)
def test_dates_as_12345_exports_write_them_are_read(town_engine, tmp_path, written, expected):
    path = write_csv(tmp_path / "in.csv", [canonical_row(1, reported_at=written)])
    assert import_reports(town_engine, path).imported == 1
    assert read_reports(town_engine).loc[0, "reported_at"] == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("2026-02-30 08:00", "not a date"),
        ("上周三", "not a date"),
        ("2099-01-01", "in the future (now is "),
    ],
)
def test_unreadable_and_future_dates_are_named(town_engine, tmp_path, written, reason):
    reject = _one_bad_row(town_engine, tmp_path, reported_at=written)
    assert reject["field"] == "reported_at" and reason in reject["reason"]


# --- text: length and control characters --------------------------------------------


@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("id", "external_id"),
        ("address", "address"),
        ("reporter_name", "reporter_name"),
        ("reporter_phone", "reporter_phone"),
    ],
)
def test_text_limits_are_the_store_column_lengths(field, column):
    assert _TEXT_LIMITS[field] == schema.report.c[column].type.length


@pytest.mark.parametrize("field", sorted(_TEXT_LIMITS))
def test_text_at_the_limit_imports_and_one_more_character_is_refused(town_engine, tmp_path, field):
    limit = _TEXT_LIMITS[field]
    rows = [
        canonical_row(1, **{field: "长" * limit}),
        canonical_row(2, **{field: "长" * (limit + 1)}),
    ]
    path = write_csv(tmp_path / "in.csv", rows)
    result = import_reports(town_engine, path, skip_invalid=True)
    assert (result.imported, result.rejected) == (1, 1)
    reject = _rejects(path).iloc[0]
    assert (reject["row"], reject["field"]) == ("3", field)
    assert reject["reason"] == f"longer than {limit} characters ({limit + 1:,})"
    assert reject["value"] == "长" * min(limit + 1, 40) + ("…" if limit + 1 > 40 else "")


def test_address_too_long_for_the_column_refuses_the_row_not_the_transaction(town_engine, tmp_path):
    rows = [canonical_row(1), canonical_row(2, address="路" * 201), canonical_row(3)]
    path = write_csv(tmp_path / "in.csv", rows)
    result = import_reports(town_engine, path, skip_invalid=True)
    assert (result.imported, result.rejected) == (2, 1)
    assert read_reports(town_engine)["address"].str.len().max() <= 200


@pytest.mark.parametrize(
    ("field", "value", "code", "position"),
    [
        ("description", "废弃\x07车辆", "U+0007", 3),
        ("address", "兴旺路\u202e号21", "U+202E", 4),
        ("reporter_name", "\x1b[31m王", "U+001B", 1),
        ("id", "12345-\x00", "U+0000", 7),
        ("description", "a\x7fb", "U+007F", 2),
    ],
)
def test_control_characters_are_refused_with_their_code_and_place(
    town_engine, tmp_path, field, value, code, position
):
    reject = _one_bad_row(town_engine, tmp_path, **{field: value})
    assert reject["field"] == field
    assert reject["reason"] == f"control character {code} at character {position}"
    assert "\\u" in reject["value"]  # shown escaped in the rejects file


def test_tabs_and_line_breaks_in_a_description_are_text(town_engine, tmp_path):
    row = canonical_row(1, description="第一行\n第二行\t完")
    import_reports(town_engine, write_csv(tmp_path / "in.csv", [row]))
    assert read_reports(town_engine).loc[0, "description"] == "第一行\n第二行\t完"


# --- coordinates ------------------------------------------------------------------


def test_projected_metres_in_a_degree_import_say_to_give_the_crs(town_engine, tmp_path):
    reject = _one_bad_row(town_engine, tmp_path, lng="440541.2", lat="4404312.7")
    assert reject["field"] == "lng"
    assert "projected coordinates in metres? give their system with --crs" in reject["reason"]


def test_out_of_area_says_how_far(town_engine, tmp_path):
    reject = _one_bad_row(town_engine, tmp_path, lng="116.330000", lat="39.785000")
    # the east edge is at 116.320: 0.01° of longitude at 39.785° N is about 855 m
    assert reject["reason"].startswith("outside the service area by 85")


# --- ids --------------------------------------------------------------------------


def test_ids_already_in_the_store_are_counted_not_rejected(town_engine, tmp_path):
    import_reports(town_engine, write_csv(tmp_path / "a.csv", [canonical_row(1), canonical_row(2)]))
    rows = [canonical_row(i) for i in range(1, 5)]
    result = import_reports(town_engine, write_csv(tmp_path / "b.csv", rows))
    assert (result.imported, result.rejected, result.already_imported) == (2, 0, 2)
    assert count_reports(town_engine) == 4


def test_an_id_repeated_within_the_file_names_the_first_row(town_engine, tmp_path):
    reject = _one_bad_row(town_engine, tmp_path, id="12345-00001")
    assert (reject["field"], reject["reason"]) == ("id", "repeats the id of row 2")


# --- the command: summaries, dry run, idempotence ------------------------------------


def test_rejected_file_is_one_line_exit_2_and_writes_every_rejected_row(
    town_engine, tmp_path, capsys
):
    rows = [canonical_row(i) for i in range(1, 6)]
    rows[1]["lat"] = "NULL"
    rows[3]["category"] = "小广吿"
    path = write_csv(tmp_path / "in.csv", rows)
    assert main(["import", str(path), "--db", _url(town_engine)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "2 of 5 rows rejected, nothing imported" in err
    assert 'first: row 3, lat: missing ("NULL" is no value)' in err
    rejects = _rejects(path)
    assert rejects[["row", "field", "value"]].values.tolist() == [
        ["3", "lat", "NULL"],
        ["5", "category", "小广吿"],
    ]
    assert rejects.loc[1, "reason"] == "unknown category; did you mean ad_posting (张贴小广告)?"
    assert _count(town_engine) == 0


def test_skip_invalid_summary_counts_imported_rejected_and_duplicates(
    town_engine, tmp_path, capsys
):
    import_reports(town_engine, write_csv(tmp_path / "a.csv", [canonical_row(1)]))
    rows = [canonical_row(i) for i in range(1, 6)]
    rows[2]["lng"] = "abc"
    path = write_csv(tmp_path / "in.csv", rows)
    assert main(["import", str(path), "--db", _url(town_engine), "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("imported 3, rejected 1, already imported 1, duplicates ")
    assert f"rejected rows in {rejects_path(path)}" in out
    assert _count(town_engine) == 4


def test_dry_run_validates_writes_the_rejects_and_not_the_store(town_engine, tmp_path, capsys):
    rows = [canonical_row(1), canonical_row(2, lat="x")]
    path = write_csv(tmp_path / "in.csv", rows)
    args = ["import", str(path), "--db", _url(town_engine), "--dry-run", "--skip-invalid"]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("would import 1, rejected 1")
    assert _rejects(path)["row"].tolist() == ["3"]
    assert _count(town_engine) == 0


def test_importing_the_same_file_twice_through_the_command_adds_nothing(
    town_engine, tmp_path, capsys
):
    path = write_csv(tmp_path / "in.csv", [canonical_row(i) for i in range(20)])
    args = ["import", str(path), "--db", _url(town_engine)]
    # The command bulk-loads through ADBC's own SQLite, whose closing deletes the WAL
    # under any other open connection of this process (which, closed later, writes
    # stale pages back): close ours first, as a separate ``hotspot import`` process
    # would not share them.
    town_engine.dispose()
    assert main(args) == 0
    ids = _id_digest(town_engine)
    town_engine.dispose()
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("imported 20, rejected 0, already imported 0")
    assert out[1].startswith("imported 0, rejected 0, already imported 20")
    assert _id_digest(town_engine) == ids


def test_a_clean_rerun_removes_a_stale_rejects_file(town_engine, tmp_path):
    path = write_csv(tmp_path / "in.csv", [canonical_row(1), canonical_row(2, lat="x")])
    with pytest.raises(RejectedFile):
        import_reports(town_engine, path)
    assert rejects_path(path).exists()
    write_csv(path, [canonical_row(1), canonical_row(2)])
    import_reports(town_engine, path)
    assert not rejects_path(path).exists()


# --- reading CSV files ----------------------------------------------------------------

CHINESE_ROW = {
    "工单编号": "12345-00001",
    "小类": "废弃车辆",
    "经度": "116.305",
    "纬度": "39.785",
    "受理时间": "2026-10-01 08:00:00",
    "主要内容": "楼下僵尸车，轮胎没气；𠮷",
}


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be"]
)
def test_chinese_csv_in_each_encoding_reads_the_same(tmp_path, encoding):
    path = write_csv(tmp_path / "in.csv", [CHINESE_ROW], encoding=encoding)
    frame = read_csv_table(path)
    assert list(frame.columns) == list(CHINESE_ROW)
    assert frame.iloc[0].tolist() == list(CHINESE_ROW.values())


def test_gbk_after_an_ascii_start_is_read_as_gbk(tmp_path):
    rows = [canonical_row(i, description="abandoned car") for i in range(1000)]
    rows[-1]["description"] = "楼下僵尸车"
    path = write_csv(tmp_path / "in.csv", rows, encoding="gbk")
    assert path.stat().st_size > 65_536
    assert read_csv_table(path)["description"].iloc[-1] == "楼下僵尸车"


def test_bad_bytes_in_a_utf8_file_are_named_by_offset_and_line(tmp_path):
    rows = [canonical_row(i) for i in range(1000)]  # Chinese up front: a UTF-8 file
    data = write_csv(tmp_path / "x.csv", rows).read_bytes()
    offset = data.index(b"12345-00900")
    path = tmp_path / "in.csv"
    path.write_bytes(data[:offset] + b"\xff" + data[offset:])
    line = data[:offset].count(b"\n") + 1
    with pytest.raises(UserError) as excinfo:
        read_csv_table(path)
    assert str(excinfo.value) == (
        f"in.csv: cannot decode byte 0xFF at byte offset {offset} (line {line}): not valid UTF-8"
    )


def test_bytes_no_encoding_reads_are_named_with_the_furthest_reading(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"id,category,lng,lat,reported_at\n1,caf\xe9,116.3,39.7,2026-10-01\n")
    with pytest.raises(UserError, match=r"cannot decode byte 0xE9 at byte offset 37 \(line 2\)"):
        read_csv_table(path)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_detected(tmp_path, delimiter):
    rows = [canonical_row(i, description="甲, 乙, 丙") for i in range(3)]
    path = tmp_path / "in.csv"
    header = list(rows[0])
    lines = [delimiter.join(header)] + [delimiter.join(r[h] for h in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = read_csv_table(path)
    assert list(frame.columns) == header
    assert frame["description"].tolist() == ["甲, 乙, 丙"] * 3


def test_a_delimiter_that_cannot_be_told_is_said_so(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("a;b,c\n1;2,3\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"ambiguous delimiter: comma .* and semicolon"):
        read_csv_table(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "in.csv: the file is empty (0 bytes)"),
        (b" \r\n\r\n", "in.csv: the file is empty (only white space)"),
        (
            b"a,b,c\n1,2,3\n4,5",
            "in.csv: the file is cut short: its last row (row 3) stops after 2 of 3 fields",
        ),
        (b"a,b,c\n1,2,3\n4,5\n6,7,8\n", "in.csv: row 3 has 2 fields, the header has 3"),
        (
            b'a,b,c\n1,"2,3\n4,5,6\n',
            "in.csv: unclosed quote: the quoted field that starts in row 2 never ends "
            "(the file is cut short or a quote is missing)",
        ),
        (b"a,b,A\n1,2,3\n", "in.csv: duplicate column name 'A' (columns 1 and 3)"),
        (b"PK\x03\x04rest", "in.csv: a ZIP archive (an XLSX workbook?"),
        (b"\x89PNG\r\n\x1a\n....", "in.csv: a PNG image, not a CSV file"),
        (b"a b c\n1 2 3\n", "in.csv: cannot tell the delimiter: the header 'a b c' has no"),
    ],
)
def test_file_level_problems_have_one_exact_reason(tmp_path, content, reason):
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(UserError) as excinfo:
        read_csv_table(path)
    assert str(excinfo.value).startswith(reason)
    assert "\n" not in str(excinfo.value)


def test_a_stray_control_byte_is_text_with_a_bad_row_not_binary(tmp_path):
    path = write_csv(tmp_path / "in.csv", [canonical_row(1, description="a\x01b")])
    assert read_csv_table(path).loc[0, "description"] == "a\x01b"


# --- reading XLSX workbooks -----------------------------------------------------------


def _workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_xlsx_cells_are_read_as_text_as_the_csv_would_be(tmp_path):
    import datetime as dt

    rows = [
        ["id", "category", "lng", "lat", "reported_at", "count"],
        [202611200001, "僵尸车", 116.305, 39.785, dt.datetime(2026, 10, 1, 8, 5), 3.0],
        ["x", None, "116.306", "39.786", dt.date(2026, 10, 2), 2.5],
    ]
    frame = read_xlsx_table(_workbook(tmp_path / "in.xlsx", {"工单": rows}))
    assert frame.values.tolist() == [
        ["202611200001", "僵尸车", "116.305", "39.785", "2026-10-01 08:05:00", "3"],
        ["x", "", "116.306", "39.786", "2026-10-02 00:00:00", "2.5"],
    ]
    assert (frame.attrs["sheet"], frame.attrs["first_row"]) == ("工单", 2)


def test_xlsx_data_on_a_second_sheet_after_a_blank_one_is_read(tmp_path):
    rows = [["id", "lng"], ["1", "116.3"]]
    frame = read_xlsx_table(_workbook(tmp_path / "in.xlsx", {"Sheet1": [], "数据": rows}))
    assert frame.attrs["sheet"] == "数据" and frame["lng"].tolist() == ["116.3"]


def test_xlsx_notes_sheet_first_names_the_sheet_with_the_data(town_engine, tmp_path):
    notes = [["填表说明"], ["经纬度为WGS84"]]
    data = [list(canonical_row(1)), list(canonical_row(1).values())]
    path = _workbook(tmp_path / "in.xlsx", {"说明": notes, "工单": data})
    frame = read_xlsx_table(path)
    assert frame.attrs["other_sheets"] == ["工单"]
    from hotspot.intake.reports import map_columns

    with pytest.raises(UserError, match="read sheet '说明', the data may be on '工单'"):
        map_columns(frame)


def test_xlsx_blank_rows_above_the_header_move_the_first_row(tmp_path):
    rows = [[None, None], ["id", "lng"], ["1", "116.3"]]
    frame = read_xlsx_table(_workbook(tmp_path / "in.xlsx", {"S": rows}))
    assert frame.attrs["first_row"] == 3 and frame["id"].tolist() == ["1"]


def test_a_12345_export_with_a_title_row_is_read_under_its_header(town_engine, tmp_path):
    row = canonical_row(1)
    rows = [
        ["12345工单明细表（2026年10月）"],
        [],
        list(row),
        list(row.values()),
        list(canonical_row(2, lat="abc").values()),
    ]
    path = _workbook(tmp_path / "in.xlsx", {"工单": rows})
    frame = read_xlsx_table(path)
    assert frame.attrs["first_row"] == 4 and list(frame.columns) == list(row)
    with pytest.raises(RejectedFile, match="first: row 5, lat: not a number"):
        import_reports(town_engine, path)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "the file is empty (0 bytes)"),
        (lambda p: _workbook(p, {"Sheet1": [], "Sheet2": []}), "the workbook is empty"),
        (
            lambda p: p.write_bytes(_workbook(p, {"S": [["a"], ["1"]]}).read_bytes()[:900]),
            "truncated or damaged XLSX workbook (the ZIP archive is incomplete)",
        ),
        (lambda p: p.write_text("a,b\n1,2\n"), "not an XLSX workbook: text or other data"),
        (
            lambda p: _workbook(p, {"S": [["经度", "lng", "LNG "], ["1", "2", "3"]]}),
            "duplicate column name 'LNG' (columns 2 and 3)",
        ),
    ],
)
def test_xlsx_file_level_problems_have_one_exact_reason(tmp_path, make, reason):
    path = tmp_path / "in.xlsx"
    make(path)
    with pytest.raises(UserError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        read_xlsx_table(path)


# --- atomicity ------------------------------------------------------------------------


def _id_digest(engine) -> tuple[int, str]:
    """Number of reports and a checksum of their ids and external ids, read afresh."""
    engine.dispose()  # pooled connections may not see an import made in this process
    with engine.connect() as conn:
        rows = conn.execute(
            select(schema.report.c.id, schema.report.c.external_id).order_by(schema.report.c.id)
        ).all()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def _big_csv(path: Path, n: int) -> Path:
    rng = np.random.default_rng(6)
    seconds = rng.integers(0, 280 * 86_400, n)
    pd.DataFrame(
        {
            "id": np.char.add("BIG-", np.arange(n).astype(str)),
            "category": "abandoned_vehicle",
            "lng": np.round(rng.uniform(116.301, 116.319, n), 6),
            "lat": np.round(rng.uniform(39.781, 39.789, n), 6),
            "reported_at": (pd.Timestamp("2026-01-01") + pd.to_timedelta(seconds, unit="s")),
            "description": "废弃车辆",
        }
    ).to_csv(path, index=False)
    return path


@contextmanager
def _bytes_written(engine):
    """A function giving how many bytes the store has written so far, committed or not.

    On SQLite the size of its write-ahead log (checkpointed to nothing first); on
    PostgreSQL the size of the database's files, which grow with rows not committed yet.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        wal = Path(engine.url.database + "-wal")
        yield lambda: wal.stat().st_size if wal.exists() else 0
        return
    size = text("SELECT pg_database_size(current_database())")
    with engine.connect() as conn:
        yield lambda: conn.execute(size).scalar_one()


def test_an_import_killed_while_writing_leaves_the_store_as_it_was(town_engine, tmp_path):
    import_reports(town_engine, write_csv(tmp_path / "a.csv", [canonical_row(i) for i in range(9)]))
    before = _id_digest(town_engine)
    indexes = {ix["name"] for ix in inspect(town_engine).get_indexes("report")}
    big = _big_csv(tmp_path / "big.csv", 300_000)

    command = [sys.executable, "-m", "hotspot.cli", "import", str(big), "--db", _url(town_engine)]
    with _bytes_written(town_engine) as written:
        town_engine.dispose()
        start = written()
        with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL) as process:
            try:
                deadline = time.monotonic() + 120
                # killed once the import has written a megabyte
                while time.monotonic() < deadline and process.poll() is None:
                    if written() > start + 1_000_000:
                        os.kill(process.pid, signal.SIGKILL)
                        break
                    time.sleep(0.005)
                status = process.wait(timeout=60)
            finally:
                if process.poll() is None:
                    process.kill()
    assert status == -signal.SIGKILL, "the import ended before it was killed"

    assert _id_digest(town_engine) == before
    assert {ix["name"] for ix in inspect(town_engine).get_indexes("report")} == indexes
    if town_engine.dialect.name == "sqlite":
        with town_engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    # and the store takes imports afterwards
    more = write_csv(tmp_path / "b.csv", [canonical_row(i) for i in range(9, 12)])
    assert import_reports(town_engine, more).imported == 3
