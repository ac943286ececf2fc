"""Bulk reads and writes between the store and (Geo)DataFrames."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select

from hotspot import taxonomy
from hotspot.filters import ReportFilter
from hotspot.store import schema

__all__ = [
    "clear_store",
    "count_reports",
    "insert_frame",
    "read_communities",
    "read_events",
    "read_grid_cells",
    "read_meta",
    "read_reports",
    "read_streets",
    "read_zones",
    "resolve_community",
    "write_meta",
]

_CHUNK = 20_000
# Tables in the order they may be filled (parents first).
_FILL_ORDER = (
    schema.community,
    schema.grid_cell,
    schema.street,
    schema.storefront_zone,
    schema.patrol,
    schema.report,
    schema.report_event,
)


def _python_value(value):
    # DBAPI drivers want plain Python objects: no numpy scalars, NaN or NaT.
    if value is None or isinstance(value, str | bytes):
        return value
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(frame: pd.DataFrame, table: Table) -> list[dict]:
    frame = frame.copy()
    if isinstance(frame, gpd.GeoDataFrame) or "geometry" in frame.columns:
        geometry = np.asarray(frame["geometry"], dtype=object)
        frame = pd.DataFrame(frame.drop(columns="geometry"))
        frame["geom"] = shapely.to_wkb(geometry, output_dimension=2)
    columns = [c.name for c in table.columns if c.name in frame.columns]
    unknown = set(frame.columns) - {c.name for c in table.columns}
    if unknown:
        raise ValueError(f"columns not in table {table.name}: {sorted(unknown)}")
    frame = frame[columns].astype(object)
    rows = frame.to_numpy().tolist()
    return [
        {name: _python_value(value) for name, value in zip(columns, row, strict=True)}
        for row in rows
    ]


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of ``frame`` into ``table`` in chunks (executemany).

    Parameters
    ----------
    conn : sqlalchemy.Connection
        An open connection inside a transaction.
    table : sqlalchemy.Table
    frame : pandas.DataFrame
        Columns named as the table's; a ``geometry`` column is written to ``geom`` as WKB.

    Returns
    -------
    int
        Rows inserted.
    """
    if frame.empty:
        return 0
    records = _records(frame, table)
    for start in range(0, len(records), _CHUNK):
        conn.execute(insert(table), records[start : start + _CHUNK])
    return len(records)


def clear_store(conn: Connection) -> None:
    """Delete every row of every table except the users (children first)."""
    for table in reversed(_FILL_ORDER):
        conn.execute(delete(table))
    conn.execute(delete(schema.meta))


def write_meta(conn: Connection, values: Mapping[str, str]) -> None:
    """Set key-value facts in the ``meta`` table, replacing old values."""
    if not values:
        return
    conn.execute(delete(schema.meta).where(schema.meta.c.key.in_(list(values))))
    conn.execute(insert(schema.meta), [{"key": k, "value": str(v)} for k, v in values.items()])


def read_meta(engine: Engine) -> dict[str, str]:
    """All key-value facts of the ``meta`` table."""
    with engine.connect() as conn:
        return {k: v for k, v in conn.execute(select(schema.meta.c.key, schema.meta.c.value))}


def _read_frame(engine: Engine, statement) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _to_geoframe(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    geometry = shapely.from_wkb(frame.pop("geom").to_numpy()) if len(frame) else []
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def read_communities(engine: Engine) -> gpd.GeoDataFrame:
    """Communities with their polygons, ordered by code."""
    table = schema.community
    return _to_geoframe(_read_frame(engine, select(table).order_by(table.c.code)))


def read_grid_cells(engine: Engine, *, community_id: int | None = None) -> pd.DataFrame:
    """Grid cells (H3 at the grid resolution) with their community and grid worker."""
    table = schema.grid_cell
    statement = select(table).order_by(table.c.cell)
    if community_id is not None:
        statement = statement.where(table.c.community_id == community_id)
    return _read_frame(engine, statement)


def read_streets(engine: Engine) -> gpd.GeoDataFrame:
    """The street network."""
    return _to_geoframe(_read_frame(engine, select(schema.street).order_by(schema.street.c.id)))


def read_zones(engine: Engine) -> gpd.GeoDataFrame:
    """Storefront responsibility zones (门前三包责任区)."""
    table = schema.storefront_zone
    return _to_geoframe(_read_frame(engine, select(table).order_by(table.c.id)))


def resolve_community(engine: Engine, community: str) -> int | None:
    """Community id for a code or a name, or None when there is no such community."""
    table = schema.community
    statement = select(table.c.id).where(
        (table.c.code == community.strip()) | (table.c.name == community.strip())
    )
    with engine.connect() as conn:
        return conn.execute(statement).scalar()


def _report_conditions(engine: Engine, filters: ReportFilter) -> list:
    table = schema.report
    conditions = []
    categories = set(filters.categories)
    if filters.layers:
        catalogue = taxonomy.load_categories()
        in_layers = catalogue.index[catalogue["layer"].isin(filters.layers)]
        categories = categories & set(in_layers) if categories else set(in_layers)
        if not categories:
            categories = {"\0none"}
    if categories:
        conditions.append(table.c.category.in_(sorted(categories)))
    if filters.community:
        community_id = resolve_community(engine, filters.community)
        conditions.append(table.c.community_id == (community_id if community_id else -1))
    if filters.since:
        conditions.append(table.c.reported_at >= dt.datetime.combine(filters.since, dt.time()))
    if filters.until:
        end = dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time())
        conditions.append(table.c.reported_at < end)
    if filters.statuses:
        conditions.append(table.c.status.in_(list(filters.statuses)))
    return conditions


def count_reports(engine: Engine, filters: ReportFilter | None = None) -> int:
    """Number of reports matching ``filters``."""
    statement = select(func.count()).select_from(schema.report)
    for condition in _report_conditions(engine, filters or ReportFilter()):
        statement = statement.where(condition)
    with engine.connect() as conn:
        return int(conn.execute(statement).scalar_one())


def read_reports(engine: Engine, filters: ReportFilter | None = None) -> gpd.GeoDataFrame:
    """Reports matching ``filters`` with their category, layer and community names.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter, optional

    Returns
    -------
    geopandas.GeoDataFrame
        Every report column, plus ``category_name``, ``layer`` and ``community``
        (the community code), ordered by id; geometry in EPSG:4326.
    """
    report, community = schema.report, schema.community
    statement = (
        select(report, community.c.code.label("community"))
        .select_from(report.outerjoin(community, report.c.community_id == community.c.id))
        .order_by(report.c.id)
    )
    for condition in _report_conditions(engine, filters or ReportFilter()):
        statement = statement.where(condition)
    frame = _read_frame(engine, statement)
    catalogue = taxonomy.load_categories()
    codes = frame["category"].to_numpy(dtype=object)
    frame["category_name"] = catalogue["name_zh"].reindex(codes).to_numpy()
    frame["layer"] = catalogue["layer"].reindex(codes).to_numpy()
    for column in ("reported_at", "due_at", "resolved_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("community_id", "zone_id", "duplicate_of", "relapse_of"):
        frame[column] = frame[column].astype("Int64")
    return _to_geoframe(frame)


def read_events(engine: Engine, *, report_id: int | None = None) -> pd.DataFrame:
    """Status-change events, oldest first."""
    table = schema.report_event
    statement = select(table).order_by(table.c.report_id, table.c.at, table.c.id)
    if report_id is not None:
        statement = statement.where(table.c.report_id == report_id)
    return _read_frame(engine, statement)
