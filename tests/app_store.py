"""Helpers for the page tests (AppTest and real browser): a small town with reports.

A plain module, not a conftest: ``test_app``, ``test_page_*``, ``test_login*`` and
``test_browser`` import from it. The town is the lead's two-community town from
``conftest`` plus reports in every headline layer, dated in the last days so that
the page's default period shows them, and marked as demo data, and one account
per role (:data:`ACCOUNTS`, all with :data:`PASSWORD`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from pathlib import Path
from unittest import mock

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from argon2 import PasswordHasher
from sqlalchemy import Engine, select, update

from geo.cells import GRID_RES, cells_from_points
from hotspot import auth
from hotspot.config import database_url
from hotspot.store import schema
from hotspot.store.engine import open_store
from hotspot.store.frames import insert_frame, write_meta
from tests.conftest import write_small_town
from tests.stores import new_store_url

#: Categories of the test reports and how many of each, headline layers first.
REPORT_MIX: dict[str, int] = {
    "abandoned_vehicle": 12,  # zombie_cars
    "abandoned_bicycle": 4,  # zombie_cars
    "illegal_structure": 6,  # illegal_construction, footprint polygons
    "private_parking_lock": 3,  # illegal_construction
    "ad_posting": 9,  # ad_posting
    "garbage_dumping": 7,  # garbage
    "illegal_parking": 5,  # parking
}
COMMUNITY_NAMES = ("西园社区", "东苑社区")
_STATUSES = ("new", "dispatched", "in_progress", "resolved", "closed")


def town_reports(*, seed: int = 1, today: dt.date | None = None) -> gpd.GeoDataFrame:
    """Reports scattered over the small town (116.300–116.320 E, 39.780–39.790 N).

    Parameters
    ----------
    seed : int, default 1
    today : datetime.date, optional
        Reports fall in the 20 days before it; defaults to today.

    Returns
    -------
    geopandas.GeoDataFrame
        Rows for the ``report`` table.
    """
    rng = np.random.default_rng(seed)
    categories = np.repeat(list(REPORT_MIX), list(REPORT_MIX.values()))
    n = len(categories)
    lng = np.round(rng.uniform(116.3005, 116.3195, n), 6)
    lat = np.round(rng.uniform(39.7805, 39.7895, n), 6)
    end = dt.datetime.combine(today or dt.date.today(), dt.time(8))
    reported = [end - dt.timedelta(hours=int(h)) for h in rng.integers(0, 20 * 24, n)]
    geometry = [
        shapely.box(x - 0.0001, y - 0.00008, x + 0.0001, y + 0.00008)
        if code == "illegal_structure"
        else shapely.Point(x, y)
        for code, x, y in zip(categories, lng, lat, strict=True)
    ]
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1),
            "category": categories,
            "description": [f"测试问题 {i}" for i in range(1, n + 1)],
            "address": [f"兴旺路{i}号<b>" if i == 1 else f"兴旺路{i}号" for i in range(1, n + 1)],
            "lng": lng,
            "lat": lat,
            "reported_at": pd.to_datetime(reported),
            "source": "patrol",
            "status": rng.choice(_STATUSES, n),
            "community_id": np.where(lng < 116.31, 1, 2),
            "cell": cells_from_points(lng, lat),
        },
        geometry=geometry,
        crs="EPSG:4326",
    )


def write_map_town(engine: Engine, *, today: dt.date | None = None) -> int:
    """Fill a migrated, empty store with the small town and its reports; return the report count."""
    write_small_town(engine)
    reports = town_reports(today=today)
    with engine.begin() as conn:
        insert_frame(conn, schema.report, reports)
        write_meta(conn, {"demo": "true"})
    return len(reports)


#: The password of every test account.
PASSWORD = "hotspot-test-2026"
#: The test accounts, named after their roles: username -> (role, community, full name).
#: The community account is 西园社区's (W01); the grid worker has W01's western cells.
ACCOUNTS: dict[str, tuple[str, str | None, str | None]] = {
    "admin": ("admin", None, None),
    "leader": ("leader", None, None),
    "enforcement": ("enforcement", None, None),
    "community": ("community", "W01", "西园社区工作人员"),
    "gridworker": ("gridworker", "W01", "王网格"),
}
#: West of this longitude (the middle of W01) the grid worker's cells lie.
WORKER_WEST_OF = 116.305


@contextlib.contextmanager
def quick_hashes():
    """Hash passwords with argon2's cheapest settings while the test accounts are made.

    The default settings take about 0.3 s a hash, which would add seconds to every
    page test; a login checks a hash with the settings written in it.
    """
    quick = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with mock.patch.object(auth, "_hasher", quick):
        yield


def assign_grid_worker(engine: Engine) -> list[int]:
    """Give the grid worker the W01 cells west of :data:`WORKER_WEST_OF`; return them."""
    table = schema.grid_cell
    with engine.connect() as conn:
        cells = conn.execute(select(table.c.cell).where(table.c.community_id == 1)).scalars()
        cells = [int(c) for c in cells]
    west = sorted(c for c in cells if h3.cell_to_latlng(h3.int_to_str(c))[1] < WORKER_WEST_OF)
    assert h3.get_resolution(h3.int_to_str(west[0])) == GRID_RES
    with engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.cell.in_(west))
            .values(grid_worker=ACCOUNTS["gridworker"][2])
        )
    return west


def add_accounts(engine: Engine) -> None:
    """Create :data:`ACCOUNTS` (and the grid worker's cells) in a store holding the small town."""
    assign_grid_worker(engine)
    with quick_hashes():
        for username, (role, community, full_name) in ACCOUNTS.items():
            auth.add_user(
                engine,
                username,
                role,
                PASSWORD,
                community=community,
                full_name=full_name,
                actor="test",
            )


def prepare_store(path: Path, *, accounts: bool = True) -> str:
    """Create a store holding the small town and the test accounts; return its URL.

    ``path`` names it: a SQLite file there (with the ``.db`` suffix), or a PostgreSQL
    database under ``--store postgresql`` (see :func:`tests.stores.new_store_url`).
    With ``accounts=False`` the store has no account at all.
    """
    path = Path(path)
    url = new_store_url(path.parent, path.stem, migrated=True)
    engine = open_store(url)
    write_map_town(engine)
    if accounts:
        add_accounts(engine)
    engine.dispose()
    return url


#: The dashboard's entry script.
APP = str(Path(__file__).resolve().parents[1] / "app.py")
#: An http(s) URL in page text: nothing of the kind may reach the browser but tiles.
URL_RE = re.compile(r"https?://[^\s\"'`)<>\\]+")
#: The res-9 cell :func:`plant_hotspot` fills, in the small town's west community.
HOT_CELL = h3.latlng_to_cell(39.7851, 116.3051, 9)


def plant_hotspot(url: str) -> int:
    """Add ad-posting reports on a res-9 cell and its ring in the last 20 days; return how many."""
    rng = np.random.default_rng(3)
    cells = [HOT_CELL, *h3.grid_ring(HOT_CELL, 1)]
    per_cell = [40, 30, 30, 30, 30, 30, 30]
    centres = np.array([h3.cell_to_latlng(c) for c in cells])
    lat = np.repeat(centres[:, 0], per_cell) + rng.normal(0, 0.0002, sum(per_cell))
    lng = np.repeat(centres[:, 1], per_cell) + rng.normal(0, 0.0002, sum(per_cell))
    now = dt.datetime.combine(dt.date.today(), dt.time(8))
    n = lng.size
    reports = gpd.GeoDataFrame(
        {
            "id": np.arange(1000, 1000 + n),
            "category": "ad_posting",
            "address": [f"兴旺路{i}号" for i in range(n)],
            "reporter_phone": "13912345678",
            "lng": lng,
            "lat": lat,
            "reported_at": [now - dt.timedelta(hours=int(h)) for h in rng.integers(0, 480, n)],
            "status": "new",
            "community_id": 1,
            "cell": cells_from_points(lng, lat),
        },
        geometry=shapely.points(lng, lat),
        crs="EPSG:4326",
    )
    engine = open_store(url)
    with engine.begin() as conn:
        insert_frame(conn, schema.report, reports)
    engine.dispose()
    return n


def session_token(username: str, url: str | None = None) -> str:
    """Open a dashboard session for ``username`` in the store (default: the configured one)."""
    engine = open_store(url or database_url())
    try:
        user = auth.load_user(engine, username)
        assert user is not None, f"no enabled account {username!r}"
        return auth.open_session(engine, user)
    finally:
        engine.dispose()


def app_test(user: str | None = "leader"):
    """The app in AppTest, not yet run, signed in as ``user`` (None: nobody).

    AppTest sends no cookies, so the session's token goes where a login leaves it.
    """
    from streamlit.testing.v1 import AppTest

    from pages._session import TOKEN_KEY

    at = AppTest.from_file(APP, default_timeout=60)
    if user is not None:
        at.session_state[TOKEN_KEY] = session_token(user)
    return at


def run_page(page: str | None = None, *, user: str | None = "leader"):
    """Run the app in AppTest as ``user``, switch to ``page`` (e.g. ``"pages/map.py"``).

    A leader by default: sees the whole town, personal data masked. Asserts that
    no exception was raised.
    """
    at = app_test(user)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _nodes(node):
    for child in getattr(node, "children", {}).values():
        yield child
        yield from _nodes(child)


def page_text(at) -> str:
    """Everything the page sends to the browser: each element's message, tables as CSV."""
    parts = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        if type(node).__name__ == "Dataframe":
            parts.append(node.value.to_csv())
    return "\n".join(parts)


def map_args(at) -> dict:
    """The arguments streamlit-folium sends to its component: the map's HTML, script and links."""
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None and "st_folium" in getattr(proto, "component_name", ""):
            return json.loads(proto.json_args)
    raise AssertionError("no st_folium map on the page")


def table_with(at, column: str) -> pd.DataFrame:
    """The first dataframe on the page with a column named ``column``."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a column {column!r}")
