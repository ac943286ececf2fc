import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import inspect, text

from geo.cells import cells_from_points
from hotspot.config import database_url
from hotspot.store import frames, schema
from hotspot.store.engine import (
    current_revision,
    head_revision,
    make_engine,
    migrate,
    open_store,
    schema_differences,
)
from hotspot.store.frames import insert_frame, read_events, read_meta, read_reports, write_meta
from tests.stores import new_store_url


def test_migrations_build_exactly_the_declared_schema(tmp_path):
    engine = make_engine(new_store_url(tmp_path, "m"))
    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == head_revision()
    diff = schema_differences(engine)
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= set(schema.metadata.tables)


def test_a_store_made_by_the_first_version_opens_in_this_one_with_its_data(tmp_path):
    url = new_store_url(tmp_path, "old")
    engine = make_engine(url)
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO meta (key, value) VALUES ('demo', 'true')"),
        )
    engine = open_store(url)
    assert current_revision(engine) == head_revision() != "0001"
    assert read_meta(engine) == {"demo": "true"}
    diff = schema_differences(engine)
    assert diff == []


def test_open_store_migrates_an_empty_database_and_reopens_it(tmp_path):
    url = new_store_url(tmp_path, "a")
    open_store(url)
    engine = open_store(url)
    assert current_revision(engine) == head_revision()


@pytest.mark.sqlite_only("SQLite's WAL, busy-timeout and foreign-key pragmas")
def test_sqlite_store_uses_wal_and_a_busy_timeout(engine):
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_database_url_prefers_argument_then_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.delenv("HOTSPOT_DATABASE_URL", raising=False)
    assert database_url().endswith("data/hotspot.db")
    monkeypatch.setenv("HOTSPOT_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    assert database_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"


def _two_reports() -> gpd.GeoDataFrame:
    footprint = shapely.box(116.3050, 39.7850, 116.3053, 39.7852)
    point = shapely.Point(116.3012, 39.7815)
    rep = shapely.point_on_surface(footprint)
    lng = np.array([point.x, rep.x])
    lat = np.array([point.y, rep.y])
    return gpd.GeoDataFrame(
        {
            "id": [1, 2],
            "external_id": ["DX2026100100001", None],
            "category": ["abandoned_vehicle", "illegal_structure"],
            "description": ["废弃车辆", "私搭乱建 彩钢房"],
            "address": ["兴旺路1号", None],
            "area_m2": [None, 660.5],
            "lng": lng,
            "lat": lat,
            "orig_x": [116.3073, None],
            "orig_y": [39.7829, None],
            "orig_crs": ["gcj02", None],
            "reported_at": pd.to_datetime(["2026-10-01 08:30:00", "2026-10-02 14:05:09"]),
            "source": ["hotline", "patrol"],
            "reporter_name": ["张三", None],
            "reporter_phone": ["13800138000", None],
            "status": ["closed", "in_progress"],
            "due_at": pd.to_datetime(["2026-10-04 08:30:00", "2026-10-17 14:05:09"]),
            "resolved_at": pd.to_datetime(["2026-10-03 10:00:00", None]),
            "closed_at": pd.to_datetime(["2026-10-03 16:00:00", None]),
            "demolished_m2": [None, 120.25],
            "community_id": [1, None],
            "zone_id": [None, 1],
            "cell": cells_from_points(lng, lat),
            "duplicate_of": [None, None],
            "relapse_of": [None, 1],
        },
        geometry=[point, footprint],
        crs="EPSG:4326",
    )


def test_store_round_trips_every_report_field(town_engine):
    reports = _two_reports()
    with town_engine.begin() as conn:
        insert_frame(conn, schema.report, reports)
    back = read_reports(town_engine)
    assert len(back) == 2
    for column in reports.columns:
        if column == "geometry":
            assert shapely.equals_exact(
                back.geometry.to_numpy(), reports.geometry.to_numpy(), 0
            ).all()
            continue
        got = back[column].tolist()
        want = reports[column].tolist()
        for g, w in zip(got, want, strict=True):
            if pd.isna(w):
                assert pd.isna(g), column
            else:
                assert g == w, column
    assert back["cell"].dtype == np.int64
    assert back.loc[0, "community"] == "W01"
    assert back.loc[1, "geometry"].geom_type == "Polygon"


def test_a_report_in_an_unknown_community_is_refused_by_the_store(town_engine):
    reports = _two_reports().iloc[:1].assign(community_id=99)
    with pytest.raises(Exception, match=r"(?i)foreign key"), town_engine.begin() as conn:
        insert_frame(conn, schema.report, reports)


def test_a_report_numbered_by_the_store_follows_reports_written_with_their_ids(town_engine):
    # PostgreSQL numbers from a sequence that explicit ids leave behind.
    with town_engine.begin() as conn:
        insert_frame(conn, schema.report, _two_reports().assign(id=[7, 8], relapse_of=None))
    numbered = _two_reports().iloc[[0]].drop(columns="id").assign(external_id="new")
    with town_engine.begin() as conn:
        insert_frame(conn, schema.report, numbered)
    assert read_reports(town_engine)["id"].tolist() == [7, 8, 9]


def test_meta_and_events_round_trip(engine):
    with engine.begin() as conn:
        write_meta(conn, {"demo": "true", "demo_seed": "7"})
        write_meta(conn, {"demo_seed": "8"})
    assert read_meta(engine) == {"demo": "true", "demo_seed": "8"}


def test_events_are_read_oldest_first(town_engine):
    with town_engine.begin() as conn:
        insert_frame(conn, schema.report, _two_reports())
        insert_frame(
            conn,
            schema.report_event,
            pd.DataFrame(
                {
                    "report_id": [1, 1],
                    "at": [dt.datetime(2026, 10, 3, 16), dt.datetime(2026, 10, 1, 8, 30)],
                    "actor": ["核查员", "系统"],
                    "from_status": ["resolved", None],
                    "to_status": ["closed", "new"],
                    "note": ["核查通过", None],
                }
            ),
        )
    events = read_events(town_engine, report_id=1)
    assert events["to_status"].tolist() == ["new", "closed"]
    assert events["from_status"].isna().tolist() == [True, False]


def test_the_raw_read_equals_the_sqlalchemy_read_even_when_a_column_starts_null(
    town_engine, monkeypatch
):
    # 3,000 reports whose closed_at and address are NULL before the last ten: a column
    # type guessed from the first rows only would break on the later text.
    base = _two_reports().iloc[[0]]
    many = base.loc[base.index.repeat(3010)].reset_index(drop=True)
    many["id"] = np.arange(1, 3011)
    many["external_id"] = [f"DX{i}" for i in range(3010)]
    late = many.index >= 3000
    many["closed_at"] = many["closed_at"].where(late)
    many["address"] = many["address"].where(late)
    many["relapse_of"] = None
    with town_engine.begin() as conn:
        insert_frame(conn, schema.report, many)
    fast = read_reports(town_engine)
    monkeypatch.setattr("hotspot.store.frames._read_frame_raw", frames._read_frame)
    slow = read_reports(town_engine)
    assert fast.dtypes.astype(str).to_dict() == slow.dtypes.astype(str).to_dict()
    pd.testing.assert_frame_equal(
        pd.DataFrame(fast.drop(columns="geometry")), pd.DataFrame(slow.drop(columns="geometry"))
    )
    assert fast.geometry.geom_equals(slow.geometry).all()
    assert fast["closed_at"].notna().sum() == 10
