"""Shared fixtures: throwaway stores and a tiny two-community town; the ``--store`` option.

``--store sqlite`` (the default) or ``--store postgresql`` chooses the store every test
runs against (see :mod:`tests.stores`); tests marked ``sqlite_only`` are about SQLite
itself and are skipped under PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import update

from geo.cells import GRID_RES, cell_parents, cells_from_points, cells_in_polygon
from geo.crs import to_metric
from hotspot.auth import COMMUNITY_ROLES, add_user
from hotspot.store import schema
from hotspot.store.engine import open_store
from hotspot.store.frames import insert_frame
from tests import stores

#: The tiny town: two square communities side by side near 西红门 (WGS84).
WEST = shapely.box(116.300, 39.780, 116.310, 39.790)
EAST = shapely.box(116.310, 39.780, 116.320, 39.790)
ZONE = shapely.box(116.3050, 39.7850, 116.3052, 39.78505)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store",
        choices=stores.STORES,
        default="sqlite",
        help="run the tests against a SQLite file (default) or a PostgreSQL + PostGIS "
        "database (HOTSPOT_TEST_POSTGRES_URL, else a cluster started with .ci/postgres)",
    )


def pytest_configure(config: pytest.Config) -> None:
    stores.configure(config.getoption("store"))
    if stores.store_kind() == "postgresql":
        # An engine a test left to the garbage collector closes its pooled connections
        # there; psycopg warns about it, and the test's database is dropped anyway.
        config.addinivalue_line(
            "filterwarnings", "ignore:.*was deleted while still open:ResourceWarning"
        )


def pytest_report_header(config: pytest.Config) -> str:
    return f"store: {stores.store_kind()}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if stores.store_kind() == "sqlite":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            why = marker.args[0] if marker.args else "about SQLite itself"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {why}"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stores.finish()


# Each PostgreSQL database goes when what made it is done (15 MB each, and the users it
# cuts off free the server's connections): the fixture's teardown, or the test's.
_fixture_stores: dict[pytest.FixtureDef, list[str]] = {}


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef, request: pytest.FixtureRequest):
    stores.begin_fixture()
    try:
        return (yield)
    finally:
        made = stores.end_fixture()
        if made:
            _fixture_stores.setdefault(fixturedef, []).extend(made)


def pytest_fixture_post_finalizer(fixturedef: pytest.FixtureDef, request) -> None:
    stores.drop_stores(_fixture_stores.pop(fixturedef, []))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    try:
        return (yield)
    finally:
        stores.drop_stores(stores.take_loose_stores())


@pytest.fixture
def engine(tmp_path):
    """An empty, migrated store (SQLite, or PostgreSQL under ``--store postgresql``)."""
    engine = open_store(stores.new_store_url(tmp_path, migrated=True))
    yield engine
    engine.dispose()


def write_small_town(engine) -> None:
    """Two communities with their grid cells and one storefront zone."""
    communities = gpd.GeoDataFrame(
        {
            "id": [1, 2],
            "code": ["W01", "E02"],
            "name": ["西园社区", "东苑社区"],
            "area_m2": [to_metric(WEST).area, to_metric(EAST).area],
        },
        geometry=[WEST, EAST],
        crs="EPSG:4326",
    )
    cells = pd.concat(
        [
            pd.DataFrame({"cell": cells_in_polygon(poly, res=GRID_RES), "community_id": cid})
            for cid, poly in ((1, WEST), (2, EAST))
        ]
    )
    centre = shapely.centroid(ZONE)
    zones = gpd.GeoDataFrame(
        {
            "id": [1],
            "shop_name": ["老王烧烤"],
            "business_type": ["餐饮"],
            "address": ["兴旺路12号"],
            "licence_status": ["valid"],
            "agreement_signed": [True],
            "agreement_signed_at": [dt.date(2026, 3, 1)],
            "responsible_person": ["王强"],
            "responsible_phone": ["13800138000"],
            "community_id": [1],
            "street_id": [None],
            "area_m2": [to_metric(ZONE).area],
            "cell": cells_from_points([centre.x], [centre.y]),
        },
        geometry=[ZONE],
        crs="EPSG:4326",
    )
    with engine.begin() as conn:
        insert_frame(conn, schema.community, communities)
        insert_frame(conn, schema.grid_cell, cells)
        insert_frame(conn, schema.storefront_zone, zones)
    assert (cell_parents(zones["cell"], GRID_RES) > 0).all()


@pytest.fixture
def town_engine(engine):
    """A migrated store holding the tiny two-community town."""
    write_small_town(engine)
    return engine


#: One account per role that :func:`write_role_users` adds: username -> role. The
#: community and grid worker accounts are W01's (西园社区).
ROLE_USERS = {
    "admin1": "admin",
    "leader1": "leader",
    "police1": "enforcement",
    "w01": "community",
    "grid1": "gridworker",
}
#: The password of each of those accounts.
ROLE_PASSWORD = "西园-correct-horse-7"
#: W01's grid worker, responsible for the grid cells of :data:`WORKER_POINTS`.
GRID_WORKER = "李网格"
#: W01's other grid worker, responsible for the rest of its cells.
OTHER_WORKER = "王网格"
#: Points (lng, lat) in W01 whose grid cells are :data:`GRID_WORKER`'s.
WORKER_POINTS = ((116.3021, 39.7821), (116.3052, 39.7866))


def worker_cells() -> np.ndarray:
    """The grid cells of :data:`GRID_WORKER` (resolution ``GRID_RES``), sorted."""
    lng, lat = np.array(WORKER_POINTS).T
    return np.unique(cell_parents(cells_from_points(lng, lat), GRID_RES))


def write_role_users(engine) -> None:
    """Name W01's grid workers and add one account per role (:data:`ROLE_USERS`)."""
    grid = schema.grid_cell
    mine = worker_cells().tolist()
    with engine.begin() as conn:
        conn.execute(update(grid).where(grid.c.cell.in_(mine)).values(grid_worker=GRID_WORKER))
        conn.execute(
            update(grid)
            .where(grid.c.community_id == 1, grid.c.cell.not_in(mine))
            .values(grid_worker=OTHER_WORKER)
        )
    for username, role in ROLE_USERS.items():
        add_user(
            engine,
            username,
            role,
            ROLE_PASSWORD,
            community="W01" if role in COMMUNITY_ROLES else None,
            full_name=GRID_WORKER if role == "gridworker" else None,
        )


@pytest.fixture
def role_engine(town_engine):
    """The tiny town with one account per role (:data:`ROLE_USERS`, :data:`ROLE_PASSWORD`)."""
    write_role_users(town_engine)
    return town_engine


def write_csv(path: Path, rows: list[dict], *, encoding: str = "utf-8") -> Path:
    """Write dict rows as CSV with the union of their keys as the header."""
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    with path.open("w", newline="", encoding=encoding) as out:
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def canonical_row(i: int, **changes) -> dict:
    """A valid canonical report CSV row inside the tiny town."""
    row = {
        "id": f"12345-{i:05d}",
        "category": "abandoned_vehicle",
        "lng": f"{116.301 + (i % 17) * 0.001:.6f}",
        "lat": f"{39.781 + (i % 7) * 0.001:.6f}",
        "reported_at": f"2026-10-{1 + i % 28:02d} 08:{i % 60:02d}:00",
        "description": f"小区内废弃车辆长期停放 {i}",
        "source": "12345热线",
        "status": "new",
        "address": f"兴旺路{i}号",
    }
    row.update(changes)
    return row
