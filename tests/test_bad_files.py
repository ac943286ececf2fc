"""The bad-file corpus (tests/data/bad/): each file's exact reason, and the store unchanged."""

import hashlib
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from hotspot.cli import main
from hotspot.intake.importer import import_reports, rejects_path
from hotspot.store import schema
from tests.conftest import canonical_row, write_csv

BAD = Path(__file__).parent / "data" / "bad"

#: file -> (the reason its one stderr line gives, the rows FILE.rejects.csv lists; None
#: when the file is refused as a whole and no rejects file is written)
CASES: dict[str, tuple[str, list[int] | None]] = {
    # encodings: GBK, GB18030, UTF-8 with BOM and UTF-16 are read, then checked row by row
    "latin1_text.csv": (
        "cannot decode byte 0xE9 at byte offset 240 (line 3): not valid UTF-8 or GBK/GB18030",
        None,
    ),
    "utf8_bad_byte_after_sample.csv": (
        "cannot decode byte 0xFF at byte offset 90269 (line 652): not valid UTF-8",
        None,
    ),
    "utf16_lone_surrogate.csv": (
        "cannot decode bytes 0x00 0xD8 at byte offset 482 (line 3): not valid UTF-16",
        None,
    ),
    "utf16le_bom_out_of_area.csv": ("row 3, lng: outside the service area by 6,853 m", [3]),
    "utf16be_no_bom_missing_lat.csv": ("row 2, lat: missing", [2]),
    "gbk_unknown_category.csv": (
        "row 4, category: unknown category; did you mean ad_posting (张贴小广告)?",
        [4],
    ),
    "gb18030_future_date.csv": ("row 3, reported_at: in the future", [3]),
    "utf8_bom_swapped_columns.csv": (
        "row 2, lng: lng and lat look swapped (lng 39.782, lat 116.302)",
        [2, 3, 4],
    ),
    "binary_garbage.csv": ("binary_garbage.csv: binary data, not a CSV file", None),
    "xlsx_named_csv.csv": (
        "a ZIP archive (an XLSX workbook? name it .xlsx or use --format xlsx), not a CSV file",
        None,
    ),
    "legacy_xls_named_csv.csv": (
        "an old Excel .xls workbook (save it as .xlsx or CSV), not a CSV file",
        None,
    ),
    # cut short, broken structure
    "truncated_mid_row.csv": (
        "the file is cut short: its last row (row 4) stops after 4 of 9 fields",
        None,
    ),
    "unclosed_quote.csv": (
        "unclosed quote: the quoted field that starts in row 3 never ends",
        None,
    ),
    "extra_fields.csv": ("row 3 has 11 fields, the header has 9", None),
    "truncated.xlsx": (
        "truncated or damaged XLSX workbook (the ZIP archive is incomplete)",
        None,
    ),
    # empty
    "empty.csv": ("empty.csv: the file is empty (0 bytes)", None),
    "blank_lines.csv": ("blank_lines.csv: the file is empty (only white space)", None),
    "header_only.csv": ("header_only.csv: no data rows under the header", None),
    "empty_workbook.xlsx": (
        "the workbook is empty (no cell has data; sheets: Sheet1)",
        None,
    ),
    "header_only.xlsx": ("header_only.xlsx: no data rows under the header", None),
    "data_on_second_sheet.xlsx": (
        "no coordinate columns (lng/经度 and lat/纬度, or --map lng=COLUMN lat=COLUMN) and "
        "missing column(s) category, reported_at; the header has 填表说明; "
        "read sheet '说明', the data may be on '工单数据'",
        None,
    ),
    # delimiters: semicolons and tabs are read when they split every line evenly
    "semicolon_future_date.csv": ("row 3, reported_at: in the future", [3]),
    "tab_unknown_status.csv": ("row 2, status: unknown status", [2]),
    "ambiguous_delimiter.csv": (
        "ambiguous delimiter: comma (3 columns) and semicolon (3 columns) both split every line "
        "evenly",
        None,
    ),
    "space_separated.csv": (
        "cannot tell the delimiter: the header 'id category lng lat reported_at' has no comma, "
        "semicolon, tab or '|'",
        None,
    ),
    # headers
    "duplicate_header_names.csv": ("duplicate column name 'LAT' (columns 4 and 10)", None),
    "duplicate_header_names.xlsx": ("duplicate column name '经度' (columns 3 and 10)", None),
    "no_coordinate_columns.csv": (
        "no coordinate columns (lng/经度 and lat/纬度, or --map lng=COLUMN lat=COLUMN); "
        "the header has id, category, reported_at, description, source, status, address",
        None,
    ),
    # bad rows
    "dms_bad_minutes.csv": (
        "row 3, lng: not a valid degree-minute-second coordinate (minutes and seconds below 60",
        [3],
    ),
    "dms_swapped_hemispheres.csv": ("row 2, lng: lng and lat look swapped (lng N, lat E)", [2]),
    "nan_in_required_fields.csv": ('row 3, category: missing ("nan" is no value)', [3, 4, 5, 6]),
    "nan_cells.xlsx": ('row 3, lat: missing ("#N/A" is no value)', [3]),
    "missing_coordinates.csv": ("row 3, lng: missing", [3]),
    "unparseable_coordinates.csv": ("row 2, lng: not a number", [2, 4]),
    "projected_coordinates.csv": (
        "row 2, lng: not degrees (lng 440541, lat 4404313): projected coordinates in metres? "
        "give their system with --crs, e.g. --crs EPSG:4548",
        [2, 3],
    ),
    "out_of_area.csv": ("row 3, lng: outside the service area by 6,853 m", [3]),
    "future_date.csv": ("row 2, reported_at: in the future (now is ", [2]),
    "unparseable_date.csv": ("row 3, reported_at: not a date", [3, 4]),
    "unknown_category.csv": (
        "row 3, category: unknown category; did you mean ad_posting (张贴小广告)?",
        [3],
    ),
    "duplicate_ids.csv": ("row 4, id: repeats the id of row 2", [4]),
    "huge_address.csv": ("row 3, address: longer than 200 characters (303)", [3]),
    "huge_description.csv": ("row 2, description: longer than 4000 characters (5,000)", [2]),
    "huge_id.csv": ("row 3, id: longer than 64 characters (86)", [3]),
    "control_characters.csv": (
        "row 3, description: control character U+0007 at character 5",
        [3, 4],
    ),
    "nul_in_text.csv": ("row 4, description: control character U+0000 at character 3", [4]),
    "mixed_problems.csv": (
        "4 of 6 rows rejected, nothing imported (first: row 3, lat: missing)",
        [3, 4, 6, 7],
    ),
    # other formats (read by hotspot.intake.geojson and hotspot.intake.open311)
    "linestring.geojson": ("a LineString is not accepted", [2]),
    "open311_bad_status.json": ("unknown status", [2]),
}

#: every (row, field, reason) of a file with several problems
MIXED_REJECTS = [
    ["3", "lat", "missing"],
    ["4", "category", "unknown category"],
    ["4", "reported_at", "not a date"],
    ["6", "lng", "lng and lat look swapped (lng 39.785, lat 116.305)"],
    ["7", "id", "repeats the id of row 5"],
]


def _digest(engine) -> tuple[int, str]:
    """Number of reports and a checksum of their ids and external ids.

    Read on new connections: after an import in this process, pooled SQLite connections
    can read an old state of the file (two SQLite libraries in one process: Python's and
    the ADBC driver's), which would hide a change.
    """
    engine.dispose()
    report = schema.report.c
    with engine.connect() as conn:
        rows = conn.execute(select(report.id, report.external_id).order_by(report.id)).all()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture
def store(town_engine, tmp_path):
    """The tiny town holding three reports, and its URL."""
    rows = [canonical_row(i, id=f"BASE-{i}") for i in range(1, 4)]
    import_reports(town_engine, write_csv(tmp_path / "base.csv", rows))
    return town_engine, town_engine.url.render_as_string(hide_password=False)


def _copy(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / "upload"
    folder.mkdir()
    return Path(shutil.copy(BAD / name, folder / name))


def test_the_corpus_has_at_least_32_files_and_every_one_is_in_a_test():
    files = {p.name for p in BAD.iterdir() if p.name != "make_bad_files.py"}
    assert len(files) >= 32
    tested = set(CASES) | {"formula_injection.csv", "not_a_photo.jpg"}
    assert files == tested


@pytest.mark.parametrize(("name", "reason", "rows"), [(n, *c) for n, c in CASES.items()])
def test_each_bad_file_gives_its_reason_and_leaves_the_store_unchanged(
    store, tmp_path, capsys, name, reason, rows
):
    engine, url = store
    before = _digest(engine)
    path = _copy(name, tmp_path)

    status = main(["import", str(path), "--db", url])

    err = capsys.readouterr().err
    assert status == 2
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("hotspot: error: ") and "Traceback" not in err
    assert reason in err
    assert _digest(engine) == before
    rejects = rejects_path(path)
    if rows is None:
        assert not rejects.exists()
        return
    assert "nothing imported" in err
    listed = pd.read_csv(rejects, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(listed.columns) == ["row", "field", "value", "reason"]
    assert sorted({int(r) for r in listed["row"]}) == rows
    named = re.match(r"row (\d+), (\w+): (.*)", reason)
    if named:  # the first rejected row's line in the rejects file gives the same reason
        row, field, why = named.groups()
        line = listed[(listed["row"] == row) & (listed["field"] == field)]
        assert len(line) == 1 and why in line["reason"].iloc[0], listed
    assert not (BAD / rejects.name).exists()


def test_a_file_with_several_problems_lists_each_in_its_rejects(store, tmp_path, capsys):
    url = store[1]
    path = _copy("mixed_problems.csv", tmp_path)
    assert main(["import", str(path), "--db", url]) == 2
    listed = pd.read_csv(rejects_path(path), dtype=str, keep_default_na=False)
    assert listed[["row", "field", "reason"]].values.tolist() == MIXED_REJECTS
    assert listed.loc[listed["field"] == "id", "value"].tolist() == ["BAD-0004"]


def test_skip_invalid_imports_the_good_rows_of_a_bad_file(store, tmp_path, capsys):
    engine, url = store
    count, _ = _digest(engine)
    path = _copy("mixed_problems.csv", tmp_path)
    assert main(["import", str(path), "--db", url, "--skip-invalid"]) == 0
    assert capsys.readouterr().out.startswith("imported 2, rejected 4, already imported 0")
    assert _digest(engine)[0] == count + 2


def test_formula_injection_is_stored_as_written_and_neutralised_on_export(store, tmp_path, capsys):
    engine, url = store
    path = _copy("formula_injection.csv", tmp_path)
    assert main(["import", str(path), "--db", url]) == 0
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    engine.dispose()  # see _digest
    with engine.connect() as conn:
        stored = conn.execute(
            select(schema.report.c.description, schema.report.c.address)
            .where(schema.report.c.external_id.like("BAD-%"))
            .order_by(schema.report.c.external_id)
        ).all()
    assert [list(r) for r in stored] == written[["description", "address"]].values.tolist()

    out = tmp_path / "out.csv"
    assert main(["export", str(out), "--db", url]) == 0
    exported = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    exported = exported[exported["external_id"].str.startswith("BAD-")].sort_values("external_id")
    assert exported["description"].tolist()[0] == "'" + written.loc[0, "description"]
    assert exported["address"].tolist()[1:] == ["'+cmd|' /C calc'!A0", "'@SUM(A1:A9)"]
    assert exported["description"].tolist()[2] == "'-2+3"
    for column in exported.columns:
        assert not exported[column].str.match(r"^[=+\-@]").any(), column


def test_a_text_file_named_jpg_is_not_a_photo():
    from hotspot.photos import check_photo

    data = (BAD / "not_a_photo.jpg").read_bytes()
    reason = check_photo("not_a_photo.jpg", data)
    assert reason is not None and "not an image" in reason


def test_the_corpus_script_writes_the_committed_files(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_bad_files", BAD / "make_bad_files.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    made = script.files()
    assert set(made) == {p.name for p in BAD.iterdir() if p.name != "make_bad_files.py"}
    # XLSX files carry zip timestamps; every other file is byte for byte the same
    for name, data in made.items():
        if not name.endswith(".xlsx") and name != "xlsx_named_csv.csv":
            assert (BAD / name).read_bytes() == data, name
