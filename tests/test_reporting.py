"""One report entered by hand: checked like an imported row, stored with its event and photos."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, inspect, select, text, update

from geo.cells import cells_from_points
from geo.crs import from_wgs84
from hotspot.errors import UserError
from hotspot.photos import PhotoRejected, photo_path, read_photos
from hotspot.reporting import (
    ReportDraft,
    ReportRejected,
    check_report,
    create_report,
    place_point,
)
from hotspot.store import schema
from hotspot.store.engine import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    migrate,
    open_store,
    schema_differences,
)
from hotspot.store.frames import clear_store, count_reports, read_events, read_reports
from tests.conftest import write_small_town
from tests.stores import new_store_url

NOW = dt.datetime(2026, 11, 20, 10, 0)
WEST_POINT = (116.3051, 39.78502)  # inside the west community's storefront zone
EAST_POINT = (116.3150, 39.7850)


def png(colour=(10, 200, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, format="PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 32), (90, 90, 250)).save(out, format="JPEG")
    return out.getvalue()


def draft(**changes) -> ReportDraft:
    values = {
        "category": "abandoned_vehicle",
        "x": EAST_POINT[0],
        "y": EAST_POINT[1],
        "reported_at": NOW - dt.timedelta(hours=1),
        "description": "小区内废弃车辆",
        "address": "兴旺路8号",
        "reporter_name": "张三",
        "reporter_phone": "13812345678",
        "source": "resident",
    }
    return ReportDraft(**{**values, **changes})


def create(engine, report: ReportDraft, tmp_path, **kw):
    kw.setdefault("actor", "网格员李四")
    return create_report(engine, report, now=NOW, photo_dir=tmp_path / "photos", **kw)


def _stored_counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (schema.report, schema.report_event, schema.report_photo)
        )


def test_a_created_report_is_stored_with_community_cell_zone_and_a_new_event(town_engine, tmp_path):
    created = create(town_engine, draft(x=WEST_POINT[0], y=WEST_POINT[1]), tmp_path)
    reports = read_reports(town_engine)
    assert reports["id"].tolist() == [created.id]
    report = reports.iloc[0]
    assert report["community"] == created.community == "W01"
    assert report["zone_id"] == 1
    assert report["cell"] == created.cell == cells_from_points([WEST_POINT[0]], [WEST_POINT[1]])[0]
    assert (report["lng"], report["lat"]) == WEST_POINT
    assert report["category"] == "abandoned_vehicle" and report["layer"] == "zombie_cars"
    assert report["status"] == "new" and report["source"] == "resident"
    assert report["reported_at"] == NOW - dt.timedelta(hours=1)
    assert (report["reporter_name"], report["reporter_phone"]) == ("张三", "13812345678")
    assert (report["description"], report["address"]) == ("小区内废弃车辆", "兴旺路8号")
    events = read_events(town_engine, report_id=created.id)
    assert events[["actor", "from_status", "to_status"]].values.tolist() == [
        ["网格员李四", None, "new"]
    ]
    assert events["at"].tolist() == [NOW]


def test_a_report_created_after_a_read_is_seen_by_the_next_read_and_other_engines(
    town_engine, tmp_path
):
    # The dashboard reads the reports, stores one, then reads again (and so may the CLI).
    assert read_reports(town_engine).empty
    created = create(town_engine, draft(), tmp_path)
    assert read_reports(town_engine)["id"].tolist() == [created.id]
    other = open_store(str(town_engine.url))
    assert read_reports(other)["id"].tolist() == [created.id]
    assert count_reports(other) == 1
    other.dispose()


def test_coordinates_typed_in_gcj02_are_stored_in_wgs84_with_the_originals(town_engine, tmp_path):
    x, y = from_wgs84([EAST_POINT[0]], [EAST_POINT[1]], "gcj02")
    created = create(town_engine, draft(x=float(x[0]), y=float(y[0]), crs="AMap"), tmp_path)
    report = read_reports(town_engine).set_index("id").loc[created.id]
    assert report["lng"] == pytest.approx(EAST_POINT[0], abs=1e-7)
    assert report["lat"] == pytest.approx(EAST_POINT[1], abs=1e-7)
    assert (report["orig_x"], report["orig_y"], report["orig_crs"]) == (x[0], y[0], "gcj02")
    assert created.community == "E02"


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"x": EAST_POINT[1], "y": EAST_POINT[0]}, "lng", "lng and lat look swapped"),
        ({"x": 116.40, "y": 39.90}, "lng", "outside the service area by"),
        ({"x": None}, "lng", "missing"),
        ({"x": float("nan")}, "lng", "missing"),
        ({"category": "僵尸车辆哦"}, "category", "unknown category; did you mean"),
        ({"reported_at": NOW + dt.timedelta(days=1)}, "reported_at", "in the future"),
        ({"description": "长" * 4001}, "description", "longer than 4000 characters"),
        ({"source": "carrier pigeon"}, "source", "unknown source"),
    ],
)
def test_a_bad_report_is_refused_with_its_reason_and_nothing_is_stored(
    town_engine, tmp_path, changes, field, reason
):
    with pytest.raises(ReportRejected) as refused:
        create(town_engine, draft(**changes), tmp_path, photos=[("a.png", png())])
    problems = refused.value.problems
    assert problems["field"].tolist() == [field]
    assert problems["reason"].iloc[0].startswith(reason)
    assert f"{field}: {reason}" in str(refused.value)
    assert _stored_counts(town_engine) == (0, 0, 0)
    assert not (tmp_path / "photos").exists()


def test_an_unknown_category_suggests_the_closest(town_engine):
    checked = check_report(town_engine, draft(category="僵尸车辆哦"), now=NOW)
    assert checked.rejects["reason"].tolist() == [
        "unknown category; did you mean abandoned_vehicle (废弃车辆)?"
    ]
    assert checked.reports.empty


def test_every_problem_of_a_report_is_listed_at_once(town_engine, tmp_path):
    with pytest.raises(ReportRejected) as refused:
        create(
            town_engine,
            draft(category="飞碟", x=116.40, y=39.90, reported_at=NOW + dt.timedelta(hours=2)),
            tmp_path,
        )
    assert refused.value.problems["field"].tolist() == ["category", "lng", "reported_at"]


def test_photos_are_stored_under_their_hash_and_linked_to_the_report(town_engine, tmp_path):
    created = create(
        town_engine,
        draft(),
        tmp_path,
        photos=[("../../etc/passwd.png", png()), ("现场.jpg", jpeg())],
    )
    assert created.photos == 2
    rows = read_photos(town_engine, created.id)
    assert rows["ext"].tolist() == ["png", "jpg"]
    assert rows["original_name"].tolist() == ["passwd.png", "现场.jpg"]
    assert (rows["created_at"] == NOW).all()
    for row in rows.itertuples():
        path = photo_path(row.sha256, row.ext, tmp_path / "photos")
        assert path.is_file()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row.sha256
        assert path.stat().st_size == row.bytes
    stored = sorted(p.name for p in (tmp_path / "photos").iterdir())
    assert stored == sorted(f"{r.sha256}.{r.ext}" for r in rows.itertuples())
    assert not list(tmp_path.glob("etc")) and not (tmp_path / "passwd.png").exists()


def test_a_non_image_photo_refuses_the_whole_report(town_engine, tmp_path):
    with pytest.raises(PhotoRejected, match=r"notes\.jpg: not an image"):
        create(
            town_engine,
            draft(),
            tmp_path,
            photos=[("ok.png", png()), ("notes.jpg", b"meeting notes, not a photo")],
        )
    assert _stored_counts(town_engine) == (0, 0, 0)
    assert not (tmp_path / "photos").exists()


def test_a_seventh_photo_refuses_the_report(town_engine, tmp_path):
    photos = [(f"{i}.png", png((i, i, i))) for i in range(7)]
    with pytest.raises(PhotoRejected, match="more than 6 photos"):
        create(town_engine, draft(), tmp_path, photos=photos)
    assert _stored_counts(town_engine) == (0, 0, 0)


def test_a_second_report_nearby_within_a_day_is_flagged_as_a_duplicate(town_engine, tmp_path):
    first = create(town_engine, draft(), tmp_path)
    second = create(town_engine, draft(x=EAST_POINT[0] + 0.00005), tmp_path)
    elsewhere = create(town_engine, draft(x=EAST_POINT[0] + 0.002), tmp_path)
    assert (first.duplicate_of, second.duplicate_of, elsewhere.duplicate_of) == (
        None,
        first.id,
        None,
    )
    stored = read_reports(town_engine).set_index("id")["duplicate_of"]
    assert stored[second.id] == first.id


def test_a_report_where_one_was_recently_closed_is_flagged_as_a_relapse(town_engine, tmp_path):
    old = create(town_engine, draft(reported_at=NOW - dt.timedelta(days=30)), tmp_path)
    with town_engine.begin() as conn:
        conn.execute(
            update(schema.report)
            .where(schema.report.c.id == old.id)
            .values(status="closed", closed_at=NOW - dt.timedelta(days=10))
        )
    again = create(town_engine, draft(), tmp_path)
    assert again.relapse_of == old.id
    assert again.duplicate_of is None


def test_a_report_needs_who_entered_it(town_engine, tmp_path):
    with pytest.raises(UserError, match="who entered it"):
        create(town_engine, draft(), tmp_path, actor="  ")
    assert count_reports(town_engine) == 0


def test_an_unknown_coordinate_system_is_a_user_error(town_engine, tmp_path):
    with pytest.raises(UserError, match="unknown coordinate system"):
        create(town_engine, draft(crs="mars2000"), tmp_path)


# --- placing a point ----------------------------------------------------------------------


def test_a_point_inside_a_community_is_placed_there(town_engine):
    placed = place_point(town_engine, *WEST_POINT)
    assert placed.ok
    assert (placed.community, placed.community_name) == ("W01", "西园社区")
    assert placed.cell == cells_from_points([WEST_POINT[0]], [WEST_POINT[1]])[0]


def test_a_point_outside_the_service_area_says_how_far(town_engine):
    placed = place_point(town_engine, 116.33, 39.785)  # 0.01° east of the town
    assert not placed.ok
    [reason] = placed.problems["reason"].tolist()
    metres = float(reason.removeprefix("outside the service area by ").removesuffix(" m"))
    assert metres == pytest.approx(0.01 * 111_320 * np.cos(np.radians(39.785)), rel=0.01)
    assert (placed.lng, placed.lat) == (116.33, 39.785)  # still drawn where it is
    assert placed.community is None


def test_swapped_coordinates_are_named_as_swapped(town_engine):
    placed = place_point(town_engine, EAST_POINT[1], EAST_POINT[0])
    assert placed.problems["reason"].iloc[0].startswith("lng and lat look swapped")


def test_bd09_coordinates_outside_once_converted_are_refused(town_engine):
    # WGS84 numbers of the town's south-west corner typed as Baidu's land ~1.4 km away.
    assert place_point(town_engine, 116.3005, 39.7805).community == "W01"
    placed = place_point(town_engine, 116.3005, 39.7805, "bd09")
    assert not placed.ok
    assert placed.problems["reason"].iloc[0].startswith("outside the service area by")
    x, y = from_wgs84([116.3199], [39.7899], "bd09")
    assert place_point(town_engine, float(x[0]), float(y[0]), "bd09").community == "E02"


def test_text_that_is_no_number_is_refused_and_not_placed(town_engine):
    placed = place_point(town_engine, "abc", 39.785)
    assert placed.problems["reason"].tolist() == ["not a number"]
    assert np.isnan(placed.lng)


# --- the store: migration 0004 and clearing -----------------------------------------------


def test_a_0003_store_upgrades_to_0004_with_its_reports_and_the_declared_schema(tmp_path):
    url = new_store_url(tmp_path, "old")
    engine = make_engine(url)
    migrate(engine, "0003")
    write_small_town(engine)
    assert "report_photo" not in inspect(engine).get_table_names()
    old = create(engine, draft(), tmp_path)

    engine = open_store(url)
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []
    assert read_reports(engine)["id"].tolist() == [old.id]
    new = create(engine, draft(x=EAST_POINT[0] + 0.003), tmp_path, photos=[("a.png", png())])
    assert read_photos(engine)["report_id"].tolist() == [new.id]


def test_downgrading_0004_drops_only_the_photo_table(tmp_path):
    engine = make_engine(new_store_url(tmp_path, "m"))
    migrate(engine, "0004")
    before = set(inspect(engine).get_table_names())
    downgrade(engine, "0003")
    assert current_revision(engine) == "0003"
    assert before - set(inspect(engine).get_table_names()) == {"report_photo"}


def test_the_photo_table_compiles_for_postgresql():
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable

    ddl = str(CreateTable(schema.report_photo).compile(dialect=postgresql.dialect()))
    assert "sha256 VARCHAR(64) NOT NULL" in ddl
    assert "FOREIGN KEY(report_id) REFERENCES report (id)" in ddl


def test_clearing_the_store_removes_the_photo_rows_before_their_reports(town_engine, tmp_path):
    create(town_engine, draft(), tmp_path, photos=[("a.png", png())])
    with town_engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # PostgreSQL always checks foreign keys
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        clear_store(conn)
    assert _stored_counts(town_engine) == (0, 0, 0)
