"""Helpers for the map page tests (AppTest and real browser): a small town with reports.

A plain module, not a conftest: ``test_app`` and ``test_browser``
import from it. The town is the lead's two-community town from ``conftest``
plus reports in every headline layer, dated in the last days so that the
page's default period shows them, and marked as demo data.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine

from geo.cells import cells_from_points
from hotspot.store import schema
from hotspot.store.engine import open_store
from hotspot.store.frames import insert_frame, write_meta
from tests.conftest import write_small_town

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


def prepare_store(path) -> str:
    """Create a store file at ``path`` holding the small town; return its URL."""
    url = f"sqlite:///{path}"
    engine = open_store(url)
    write_map_town(engine)
    engine.dispose()
    return url
