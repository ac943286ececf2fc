"""The 问题上报 page (AppTest): a report by coordinates with photos; bulk upload with a preview."""

from __future__ import annotations

import io
import tempfile

import pytest
from PIL import Image

from hotspot.audit import read_audit
from hotspot.photos import read_photos
from hotspot.store.engine import open_store
from hotspot.store.frames import count_reports, read_events, read_reports
from tests.app_store import map_args, prepare_store, run_page
from tests.conftest import canonical_row

PAGE = "pages/report.py"
#: Enforcement may report and import (leaders may not open the page).
REPORTER = "enforcement"
INSIDE = (116.3151, 39.7853)  # the east community
ADDRESS = "兴旺路上报测试88号"


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    """The small town's store; photos and uploads go to the test's own folders."""
    url = prepare_store(tmp_path / "store.db")
    monkeypatch.setenv("HOTSPOT_DATABASE_URL", url)
    monkeypatch.setenv("HOTSPOT_PHOTO_DIR", str(tmp_path / "photos"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return url


def _count(url: str) -> int:
    engine = open_store(url)
    try:
        return count_reports(engine)
    finally:
        engine.dispose()


def _place(at, x: float, y: float, crs: str = "wgs84"):
    if at.selectbox(key="report_crs").value != crs:
        at.selectbox(key="report_crs").set_value(crs)
    at.number_input(key="report_x").set_value(x)
    at.number_input(key="report_y").set_value(y)
    return at.run()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (250, 200, 0)).save(out, format="PNG")
    return out.getvalue()


def test_typed_coordinates_category_and_submit_store_a_report_shown_at_once(store, tmp_path):
    before = _count(store)
    at = run_page(PAGE, user=REPORTER)
    assert at.header[0].value == "问题上报"
    assert ADDRESS not in map_args(at)["script"]
    _place(at, *INSIDE)
    assert any("东苑社区" in s.value for s in at.success)  # where the point falls
    at.selectbox(key="report_layer").set_value("ad_posting").run()
    at.selectbox(key="report_category").set_value("ad_spraying").run()
    at.text_area(key="report_description").input("墙面喷涂小广告").run()
    at.text_input(key="report_address").input(ADDRESS).run()
    at.button(key="report_submit").click().run()
    assert not at.exception, [e.message for e in at.exception]

    assert _count(store) == before + 1
    engine = open_store(store)
    new = read_reports(engine).iloc[-1]
    assert (new["category"], new["community"], new["address"]) == (
        "ad_spraying",
        "E02",
        ADDRESS,
    )
    assert (new["lng"], new["lat"]) == INSIDE
    events = read_events(engine, report_id=int(new["id"]))
    assert events["to_status"].tolist() == ["new"]
    assert events["actor"].tolist() == [REPORTER]  # the signed-in account, not the page
    created = read_audit(engine, actor=REPORTER, actions=("report_created",))
    assert created["target"].tolist() == [f"report {new['id']}"]
    engine.dispose()
    assert any(f"问题编号 {new['id']}（东苑社区）" in s.value for s in at.success)
    # on the map at once, and the form is empty for the next one
    assert ADDRESS in map_args(at)["script"]  # the popup text of the new point
    assert at.number_input(key="report_x").value is None
    assert at.text_input(key="report_address").value == ""


def test_a_map_click_fills_the_coordinates_in_wgs84_and_marks_the_point(store):
    at = run_page(PAGE, user=REPORTER)
    assert map_args(at)["returned_objects"] == ["last_clicked"]
    at.selectbox(key="report_crs").set_value("bd09").run()
    # what streamlit-folium leaves in the session state when the map is clicked
    at.session_state["report_map"] = {"last_clicked": {"lat": 39.7853004, "lng": 116.3151004}}
    at.run()
    assert not at.exception
    assert at.selectbox(key="report_crs").value == "wgs84"
    assert (at.number_input(key="report_x").value, at.number_input(key="report_y").value) == (
        116.3151,
        39.7853,
    )
    assert any("东苑社区" in s.value for s in at.success)
    marker = map_args(at)["feature_group"]
    assert "circleMarker" in marker and "[39.7853, 116.3151]" in marker
    # typing over it afterwards is not undone by the same click
    at.number_input(key="report_x").set_value(116.3152).run()
    assert at.number_input(key="report_x").value == 116.3152


def test_a_point_outside_the_service_area_shows_why_and_is_not_stored(store):
    before = _count(store)
    at = _place(run_page(PAGE, user=REPORTER), 116.40, 39.90)
    assert any("超出服务范围" in w.value and "米" in w.value for w in at.warning)
    at.button(key="report_submit").click().run()
    assert not at.exception
    assert _count(store) == before
    assert any("未上报" in e.value for e in at.error)
    reasons = at.dataframe[0].value
    assert reasons["字段"].tolist() == ["经度"]
    assert reasons["原因"].iloc[0].startswith("超出服务范围")


def test_swapped_coordinates_are_named_in_english_too(store):
    at = run_page(PAGE, user=REPORTER)
    at.number_input(key="report_x").set_value(INSIDE[1])
    at.number_input(key="report_y").set_value(INSIDE[0])
    # the language last: AppTest formats the sidebar's choices in Chinese between runs
    at.sidebar.segmented_control[0].set_value("en").run()
    assert not at.exception
    assert at.header[0].value == "Report an issue"
    assert any("lng and lat look swapped" in w.value for w in at.warning)


def test_gcj02_coordinates_are_converted_before_they_are_placed(store):
    # the east community in AMap numbers
    at = _place(run_page(PAGE, user=REPORTER), 116.3211, 39.7866, "gcj02")
    assert any("东苑社区" in s.value and "116.31" in s.value for s in at.success)


def test_a_photo_is_stored_with_the_report_and_a_text_file_is_refused(store, tmp_path):
    at = _place(run_page(PAGE, user=REPORTER), *INSIDE)
    uploader = at.file_uploader[0]
    assert set(uploader.allowed_type) >= {".jpg", ".png", ".webp"}
    uploader.set_value(
        [("../../etc/passwd.png", _png(), "image/png"), ("notes.jpg", b"text", "image/jpeg")]
    ).run()
    before = _count(store)
    at.button(key="report_submit").click().run()
    assert not at.exception
    assert _count(store) == before
    assert any("notes.jpg：不是图片" in e.value for e in at.error)

    at.file_uploader[0].set_value(("../../etc/passwd.png", _png(), "image/png")).run()
    at.button(key="report_submit").click().run()
    assert _count(store) == before + 1
    engine = open_store(store)
    photos = read_photos(engine)
    engine.dispose()
    assert photos["original_name"].tolist() == ["passwd.png"]
    assert (tmp_path / "photos" / f"{photos['sha256'][0]}.png").is_file()
    assert any("附照片 1 张" in s.value for s in at.success)

    # whoever may see the report sees its photo (a leader, on the community page)
    report_id = int(photos["report_id"][0])
    grid = run_page("pages/community.py")
    grid.number_input(key="ledger_lookup").set_value(report_id).run()
    assert not grid.exception
    assert any(m.value == f"**问题 {report_id}**" for m in grid.markdown)
    assert [len(image.proto.imgs) for image in grid.image] == [1]


def _bad_csv() -> bytes:
    rows = [
        canonical_row(1, reported_at="2026-10-01 08:00:00"),
        canonical_row(2, category="飞碟降落"),
        canonical_row(3, lng="116.400000", lat="39.900000"),
    ]
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(str(r[h]) for h in header) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_bulk_upload_previews_the_rejected_rows_and_stores_nothing_until_import(store, tmp_path):
    before = _count(store)
    at = run_page(PAGE, user=REPORTER)
    bulk = at.file_uploader(key="bulk_file_0")
    bulk.set_value(("12345导出.csv", _bad_csv(), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    table = next(df.value for df in at.dataframe if "行号" in df.value.columns)
    assert table["行号"].tolist() == [3, 4]
    assert table["字段"].tolist() == ["问题类别", "经度"]
    assert table["原因"].iloc[0].startswith("未知类别")
    assert table["原因"].iloc[1].startswith("超出服务范围")
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["数据行"], metrics["可导入"], metrics["拒绝"]) == ("3", "1", "2")
    assert _count(store) == before
    importer = at.button(key="bulk_import")
    assert importer.disabled  # bad rows and "skip invalid" not ticked

    at.checkbox(key="bulk_skip").check().run()
    assert not at.button(key="bulk_import").disabled
    assert _count(store) == before  # still only a preview
    at.button(key="bulk_import").click().run()
    assert not at.exception
    assert _count(store) == before + 1
    assert any("已导入 1 件" in s.value and "拒绝 2 行" in s.value for s in at.success)
    engine = open_store(store)
    imports = read_audit(engine, actor=REPORTER, actions=("import",))
    engine.dispose()
    assert imports["target"].tolist() == ["12345导出.csv"]
    assert imports["detail"].iloc[0].startswith("1 imported, 2 rejected")
    assert list((tmp_path / "tmp").iterdir()) == []  # the upload was not kept


def test_an_unreadable_upload_says_why_and_offers_no_import(store):
    at = run_page(PAGE, user=REPORTER)
    at.file_uploader(key="bulk_file_0").set_value(("empty.csv", b"   \n", "text/csv")).run()
    assert not at.exception
    assert any("empty.csv" in e.value and "empty" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "bulk_import"]


@pytest.mark.parametrize(("user", "bulk"), [("community", False), ("admin", True)])
def test_only_roles_that_may_import_get_the_bulk_upload(store, user, bulk):
    at = run_page(PAGE, user=user)
    assert at.header[0].value == "问题上报"
    assert bool(at.tabs) is bulk
    assert bool([u for u in at.file_uploader if u.key == "bulk_file_0"]) is bulk
    assert at.button(key="report_submit")  # everyone here may report one
