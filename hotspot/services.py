"""What the pages call: the store opened once, demo data on first start, map data."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, func, select

from hotspot.filters import EVERYTHING, ReportFilter, Scope
from hotspot.store import frames, schema
from hotspot.store.engine import open_store

__all__ = [
    "MapData",
    "ReportDetail",
    "community_list",
    "ensure_store",
    "is_demo",
    "map_data",
    "report_detail",
]

log = logging.getLogger(__name__)


def ensure_store(url: str | None = None, *, demo_if_empty: bool = True) -> Engine:
    """Open (and migrate) the store; fill an empty one with the demo town.

    Parameters
    ----------
    url : str, optional
        Database URL or SQLite path; defaults to the configured store.
    demo_if_empty : bool, default True
        Build the demo town when the store has no communities yet.

    Returns
    -------
    sqlalchemy.Engine
    """
    engine = open_store(url)
    with engine.connect() as conn:
        empty = conn.execute(select(func.count()).select_from(schema.community)).scalar_one() == 0
    if empty and demo_if_empty:
        from hotspot.demo import build_town
        from hotspot.store.town import write_town

        log.info("empty store: building the demo town")
        write_town(engine, build_town())
    return engine


def is_demo(engine: Engine) -> bool:
    """Whether the store holds the synthetic demo town."""
    return frames.read_meta(engine).get("demo") == "true"


def community_list(engine: Engine, *, scope: Scope = EVERYTHING) -> pd.DataFrame:
    """Communities the filters offer (those in ``scope``): ``code`` and ``name``, by code."""
    return pd.DataFrame(frames.read_communities(engine, scope)[["code", "name"]])


@dataclass(frozen=True)
class MapData:
    """Everything the map page draws, read in one go."""

    communities: gpd.GeoDataFrame
    cells: pd.DataFrame
    zones: gpd.GeoDataFrame
    reports: gpd.GeoDataFrame


def map_data(engine: Engine, filters: ReportFilter | None = None) -> MapData:
    """Read communities, grid cells, storefront zones and the filtered reports, in scope."""
    scope = (filters or ReportFilter()).scope
    return MapData(
        communities=frames.read_communities(engine, scope),
        cells=frames.read_grid_cells(engine, scope=scope),
        zones=frames.read_zones(engine, scope),
        reports=frames.read_reports(engine, filters),
    )


@dataclass(frozen=True)
class ReportDetail:
    """One report as its viewer may see it: the row, its status events and its photos."""

    report: pd.Series
    events: pd.DataFrame
    photos: list[Path]


def report_detail(engine: Engine, report_id: int, scope: Scope = EVERYTHING) -> ReportDetail | None:
    """Look a report up by id, within ``scope``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    report_id : int
    scope : Scope
        Whose view: a report outside it is not found; names and phones are masked
        unless the scope may see them; photos only when it may open them.

    Returns
    -------
    ReportDetail or None
        None when there is no such report in ``scope``.
    """
    from hotspot.photos import photo_path, read_photos

    found = frames.read_reports(
        engine, ReportFilter(scope=scope), where=[schema.report.c.id == int(report_id)]
    )
    if found.empty:
        return None
    # read_photos gives none when the scope may not open photos
    rows = read_photos(engine, int(report_id), scope=scope)
    photos = [photo_path(sha, ext) for sha, ext in zip(rows["sha256"], rows["ext"], strict=True)]
    return ReportDetail(
        report=found.iloc[0],
        events=frames.read_events(engine, report_id=int(report_id)),
        photos=[path for path in photos if path.is_file()],
    )
