"""The PostgreSQL + PostGIS store beside SQLite: layers, indexes, bulk COPY, same answers.

Tests parametrized over ``store`` run on a SQLite file and on a fresh database copied
from the PostGIS template that ``HOTSPOT_TEST_POSTGRES_URL`` names; the others are
about PostgreSQL alone. Without the variable the PostgreSQL cases are skipped, except
under CI, where a missing server fails them.
"""

from __future__ import annotations

import datetime as dt
import gc
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import exc, insert, text

from geo.cells import cells_from_points
from hotspot.cli import main
from hotspot.demo import build_town
from hotspot.intake.importer import import_reports
from hotspot.store import schema
from hotspot.store.bulk import BulkLoader
from hotspot.store.engine import (
    downgrade,
    migrate,
    open_store,
    schema_differences,
)
from hotspot.store.frames import count_reports, read_reports
from hotspot.store.town import write_town
from tests.conftest import write_small_town
from tests.stores import new_store_url

ROOT = Path(__file__).resolve().parents[1]
GEOMETRY_TABLES = ("community", "street", "storefront_zone", "report")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """An empty, migrated store of each kind."""
    engine = open_store(new_store_url(tmp_path, kind=request.param))
    yield engine
    engine.dispose()


@pytest.fixture
def pg(request, tmp_path):
    """An empty, migrated PostgreSQL store."""
    engine = open_store(new_store_url(tmp_path, kind="postgresql"))
    yield engine
    engine.dispose()


def rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


# --- layers and indexes ---------------------------------------------------------------


def test_every_geometry_table_is_a_postgis_layer_in_wgs84(pg):
    # QGIS lists a database's layers from geometry_columns.
    found = rows(
        pg,
        "SELECT f_table_name, f_geometry_column, srid, coord_dimension, type "
        "FROM geometry_columns WHERE f_table_schema = 'public' ORDER BY f_table_name",
    )
    assert found == sorted((t, "geom", 4326, 2, "GEOMETRY") for t in GEOMETRY_TABLES)


def test_geometry_columns_have_gist_and_h3_cell_columns_bigint_btree_indexes(pg):
    indexed = set(
        rows(
            pg,
            "SELECT t.relname, a.attname, am.amname FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_am am ON am.oid = i.relam "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] "
            "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'",
        )
    )
    for table in GEOMETRY_TABLES:
        assert (table, "geom", "gist") in indexed
    cell_tables = ("report", "storefront_zone", "grid_cell", "operation_cell")
    for table in cell_tables:
        assert (table, "cell", "btree") in indexed
    types = dict(
        rows(
            pg,
            "SELECT table_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'cell'",
        )
    )
    assert types == dict.fromkeys(cell_tables, "bigint")


def test_migrations_build_the_declared_schema_and_0005_adds_the_gist_indexes(store):
    assert schema_differences(store) == []
    downgrade(store, "0004")
    differences = schema_differences(store)
    # 0006 (accounts and audit) is undone too: its two tables are missing
    assert sorted(d[1].name for d in differences if d[0] == "add_table") == [
        "app_session",
        "audit_log",
    ]
    missing = sorted(
        d[1].name for d in differences if d[0] == "add_index" and d[1].name.endswith("_geom")
    )
    if store.dialect.name == "postgresql":
        assert missing == sorted(f"ix_{t}_geom" for t in GEOMETRY_TABLES)
        assert rows(store, "SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%gist%'") == [(0,)]
    else:
        assert missing == []  # SQLite has no GiST: 0005 does nothing there
    migrate(store)
    assert schema_differences(store) == []


# --- bulk loads -----------------------------------------------------------------------


def load_frame(n: int, *, seed: int = 1) -> pd.DataFrame:
    """``n`` rows for the ``report`` table as the importer hands them to the loader."""
    rng = np.random.default_rng(seed)
    lng = np.round(rng.uniform(116.3005, 116.3195, n), 6)
    lat = np.round(rng.uniform(39.7805, 39.7895, n), 6)
    geometry = shapely.points(lng, lat)
    geometry[0] = shapely.box(lng[0] - 1e-4, lat[0] - 1e-4, lng[0] + 1e-4, lat[0] + 1e-4)
    reported = pd.Timestamp("2026-10-01 08:00:00.123456") + pd.to_timedelta(
        rng.integers(0, 30 * 86_400, n), unit="s"
    )
    texts = ['引号 "x", 逗号\n换行', "", None, "兴旺路\\12号"]
    frame = pd.DataFrame(
        {
            "external_id": [f"BULK-{seed}-{i}" for i in range(n)],
            "category": rng.choice(["abandoned_vehicle", "ad_posting", "illegal_structure"], n),
            "description": [texts[i % len(texts)] for i in range(n)],
            "address": pd.array([None if i % 3 else f"路{i}号" for i in range(n)], "string"),
            "geom": shapely.to_wkb(geometry, output_dimension=2),
            "area_m2": np.where(np.arange(n) == 0, 432.1, np.nan),
            "lng": lng,
            "lat": lat,
            "reported_at": reported,
            "status": "new",
            "due_at": reported + pd.Timedelta(days=3),
            "resolved_at": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
            "community_id": pd.array(np.where(lng < 116.31, 1, 2), dtype="Int64"),
            "zone_id": pd.array([1 if i == 1 else None for i in range(n)], dtype="Int64"),
            "cell": cells_from_points(lng, lat),
        }
    )
    return frame


def plain_row(frame: pd.DataFrame) -> dict:
    """The first row of ``frame`` as plain Python values (None where missing)."""
    row = {}
    for name, value in frame.iloc[0].items():
        if not isinstance(value, bytes) and pd.isna(value):
            value = None
        elif isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        elif isinstance(value, np.generic):
            value = value.item()
        row[name] = value
    return row


def bulk_load(engine, frames: list[pd.DataFrame], *, expected: int | None = None) -> BulkLoader:
    total = sum(len(f) for f in frames)
    with BulkLoader(engine, schema.report, expected_rows=expected or total) as loader:
        for frame in frames:
            loader.append(frame)
        loader.start_indexing()
        loader.update(np.array([loader.first_id + 1]), {"relapse_of": np.array([loader.first_id])})
        loader.commit()
    return loader


@pytest.fixture(params=["sqlite", "postgresql"])
def town(request, tmp_path):
    """The tiny town on each kind of store."""
    engine = open_store(new_store_url(tmp_path, kind=request.param))
    write_small_town(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("rebuild", [False, True], ids=["indexes-kept", "indexes-rebuilt"])
def test_a_bulk_load_stores_every_value_as_given(town, rebuild, monkeypatch):
    monkeypatch.setattr(BulkLoader, "REBUILD_MIN_ROWS", 1 if rebuild else 10**9)
    frame = load_frame(500)
    loader = bulk_load(town, [frame.iloc[:200], frame.iloc[200:]])
    assert loader.first_id == 1
    back = read_reports(town)
    assert back["id"].tolist() == list(range(1, 501))
    assert shapely.equals_exact(
        back.geometry.to_numpy(), shapely.from_wkb(frame["geom"].to_numpy()), 0
    ).all()
    for column in ("external_id", "category", "lng", "lat", "cell", "status"):
        assert back[column].tolist() == frame[column].tolist(), column
    # '' stays '', a missing text stays missing, quotes, commas, newlines, backslashes
    assert back["description"].iloc[:4].tolist()[:2] == ['引号 "x", 逗号\n换行', ""]
    assert back["description"].iloc[2] is None or pd.isna(back["description"].iloc[2])
    assert back["description"].iloc[3] == "兴旺路\\12号"
    assert back["address"].isna().tolist() == frame["address"].isna().tolist()
    assert (back["reported_at"] == frame["reported_at"]).all()  # microseconds included
    assert (back["due_at"] == frame["due_at"]).all()
    assert back["resolved_at"].isna().all()
    assert back["area_m2"].iloc[0] == 432.1 and back["area_m2"].iloc[1:].isna().all()
    assert back["zone_id"].tolist()[:3] == [pd.NA, 1, pd.NA]
    assert back["relapse_of"].dropna().tolist() == [1]
    assert back["community"].tolist() == np.where(frame["lng"] < 116.31, "W01", "E02").tolist()
    assert schema_differences(town) == []


@pytest.mark.parametrize("rebuild", [False, True], ids=["indexes-kept", "indexes-rebuilt"])
def test_rows_added_after_a_bulk_load_are_numbered_after_it(town, rebuild, monkeypatch):
    monkeypatch.setattr(BulkLoader, "REBUILD_MIN_ROWS", 1 if rebuild else 10**9)
    bulk_load(town, [load_frame(30)])
    second = bulk_load(town, [load_frame(20, seed=2)])
    assert second.first_id == 31
    single = plain_row(load_frame(1, seed=3))
    with town.begin() as conn:
        # numbered by the database (PostgreSQL: its sequence, moved past the loads)
        new_id = conn.execute(insert(schema.report).values(single)).inserted_primary_key[0]
    assert new_id == 51


@pytest.mark.parametrize("rebuild", [False, True], ids=["indexes-kept", "indexes-rebuilt"])
def test_a_failed_bulk_load_leaves_the_store_as_it_was(town, rebuild, monkeypatch):
    monkeypatch.setattr(BulkLoader, "REBUILD_MIN_ROWS", 1 if rebuild else 10**9)
    bulk_load(town, [load_frame(10)])
    with pytest.raises(RuntimeError, match="midway"):
        with BulkLoader(town, schema.report, expected_rows=100) as loader:
            loader.append(load_frame(50, seed=2))
            loader.start_indexing()
            raise RuntimeError("killed midway")
    assert count_reports(town) == 10
    assert schema_differences(town) == []
    # a duplicate external id (the unique index) fails the whole load at the end
    with pytest.raises(Exception, match=r"(?i)unique"):
        bulk_load(town, [load_frame(40, seed=3), load_frame(5)], expected=45)
    assert count_reports(town) == 10


def test_the_keys_rebuilt_after_a_large_load_are_enforced(pg, monkeypatch):
    monkeypatch.setattr(BulkLoader, "REBUILD_MIN_ROWS", 1)
    write_small_town(pg)
    bulk_load(pg, [load_frame(50)])
    assert rows(pg, "SELECT count(*) FROM pg_index WHERE NOT indisvalid") == [(0,)]
    bad = plain_row(load_frame(1, seed=4)) | {"community_id": 99}
    with pytest.raises(exc.IntegrityError, match="fk_report_community_id_community"):
        with pg.begin() as conn:
            conn.execute(insert(schema.report).values(bad))


# --- an import while pages read -------------------------------------------------------


def write_report_csv(path: Path, n: int, *, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 28 * 86_400, n).astype("timedelta64[s]")
    pd.DataFrame(
        {
            "id": [f"IMP-{seed}-{i}" for i in range(n)],
            "category": rng.choice(["abandoned_vehicle", "ad_posting", "garbage_dumping"], n),
            "lng": np.round(rng.uniform(116.3005, 116.3195, n), 6),
            "lat": np.round(rng.uniform(39.7805, 39.7895, n), 6),
            "reported_at": np.datetime_as_string(np.datetime64("2026-10-01") + seconds),
            "description": "小区内发现问题",
            "source": "12345热线",
            "status": "待派遣",
            "address": "兴旺路",
        }
    ).to_csv(path, index=False)
    return path


def read_while(alive, engine) -> list[int]:
    """Count and read the reports again and again while ``alive()``; the counts seen."""
    seen = []
    while alive() or not seen:
        seen.append(count_reports(engine))
        page = read_reports(engine, columns=["id", "category", "geom"])
        assert len(page) >= seen[-1]
    seen.append(count_reports(engine))
    return seen


@pytest.mark.slow
def test_pages_read_while_an_import_runs_and_see_it_whole(town, tmp_path):
    # The import in its own process, as the dashboard starts it (hotspot.reporting).
    url = town.url.render_as_string(hide_password=False)
    import_reports(town, write_report_csv(tmp_path / "first.csv", 2_000, seed=1))
    path = write_report_csv(tmp_path / "second.csv", 40_000, seed=2)
    child = subprocess.Popen(
        [sys.executable, "-m", "hotspot.cli", "import", str(path), "--db", url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = read_while(lambda: child.poll() is None, town)
    out, err = child.communicate()
    assert child.returncode == 0, err
    assert out.startswith("imported 40000,")
    assert len(seen) >= 5
    assert seen == sorted(seen)  # counts only grow ...
    assert set(seen) <= {2_000, 42_000}  # ... and jump once: the import is one transaction
    assert seen[-1] == 42_000


def test_pages_read_while_a_large_load_rebuilds_the_indexes(pg, tmp_path, monkeypatch):
    # The rebuild locks the table only for its last stage: reads wait, never fail.
    monkeypatch.setattr(BulkLoader, "REBUILD_MIN_ROWS", 1)
    write_small_town(pg)
    bulk_load(pg, [load_frame(100, seed=5)])
    frames = [load_frame(20_000, seed=s) for s in (6, 7, 8)]
    done = threading.Event()
    failures = []

    def load() -> None:
        try:
            bulk_load(pg, frames)
        except Exception as error:  # reported by the assertion below
            failures.append(error)
        finally:
            done.set()

    loader = threading.Thread(target=load)
    loader.start()
    seen = read_while(lambda: not done.is_set(), pg)
    loader.join(timeout=120)
    assert failures == []
    assert seen == sorted(seen) and set(seen) <= {100, 60_100}
    assert seen[-1] == 60_100
    assert schema_differences(pg) == []


# --- same answers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_stores(request, tmp_path_factory):
    """The demo town (seed 7, 5,000 reports) written on SQLite and on PostgreSQL."""
    town = build_town(seed=7, n_reports=5_000, until=dt.date(2026, 11, 20))
    urls = {}
    for kind in ("sqlite", "postgresql"):
        url = new_store_url(tmp_path_factory.mktemp(kind), kind=kind)
        engine = open_store(url)
        write_town(engine, town)
        engine.dispose()
        urls[kind] = url
    return urls


def run_cli(*args: str) -> None:
    # The commands leave their engine to the garbage collector, which closes its
    # pooled PostgreSQL connections with a ResourceWarning; collect it here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        assert main(list(args)) == 0
        gc.collect()


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["hotspots"],
        ["hotspots", "--res", "10", "--k", "2"],
        ["plan"],
        ["plan", "--layer", "ad_posting"],
    ],
    ids=["hotspots", "hotspots-res10-k2", "plan", "plan-ad-posting"],
)
def test_hotspots_and_plan_give_identical_files_on_sqlite_and_postgresql(
    demo_stores, tmp_path, command
):
    outputs = {}
    for kind, url in demo_stores.items():
        out = tmp_path / f"{kind}.csv"
        run_cli(*command, "--db", url, "--out", str(out))
        outputs[kind] = out.read_bytes()
    assert outputs["sqlite"] == outputs["postgresql"]
    assert outputs["sqlite"].count(b"\n") > 2  # a real table, not just a header


def test_reads_on_both_stores_give_equal_frames(demo_stores):
    frames = {}
    for kind, url in demo_stores.items():
        engine = open_store(url)
        try:
            frames[kind] = read_reports(engine)
        finally:
            engine.dispose()
    sqlite, postgresql = frames["sqlite"], frames["postgresql"]
    assert len(sqlite) == 5_000
    pd.testing.assert_frame_equal(
        pd.DataFrame(sqlite.drop(columns="geometry")),
        pd.DataFrame(postgresql.drop(columns="geometry")),
    )
    assert shapely.equals_exact(sqlite.geometry.to_numpy(), postgresql.geometry.to_numpy(), 0).all()
    assert isinstance(postgresql, gpd.GeoDataFrame) and postgresql.crs == "EPSG:4326"
