"""What the pages call: the store opened once, demo data on first start, map data."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, func, select

from hotspot.filters import ReportFilter
from hotspot.store import frames, schema
from hotspot.store.engine import open_store

__all__ = ["MapData", "ensure_store", "is_demo", "map_data"]

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


def community_list(engine: Engine) -> pd.DataFrame:
    """Communities as the filters offer them: ``code`` and ``name``, in code order."""
    return pd.DataFrame(frames.read_communities(engine)[["code", "name"]])


@dataclass(frozen=True)
class MapData:
    """Everything the map page draws, read in one go."""

    communities: gpd.GeoDataFrame
    cells: pd.DataFrame
    zones: gpd.GeoDataFrame
    reports: gpd.GeoDataFrame


def map_data(engine: Engine, filters: ReportFilter | None = None) -> MapData:
    """Read communities, grid cells, storefront zones and the filtered reports."""
    return MapData(
        communities=frames.read_communities(engine),
        cells=frames.read_grid_cells(engine),
        zones=frames.read_zones(engine),
        reports=frames.read_reports(engine, filters),
    )
