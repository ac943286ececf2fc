"""Bulk reads and writes between the store and (Geo)DataFrames."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    text,
)

from geo.cells import GRID_RES, STORED_RES, child_ranges
from hotspot import taxonomy
from hotspot.filters import EVERYTHING, ReportFilter, Scope
from hotspot.privacy import mask_name, mask_phone
from hotspot.store import schema

__all__ = [
    "advance_id_sequence",
    "clear_store",
    "count_flags",
    "count_reports",
    "insert_frame",
    "mask_personal_data",
    "read_communities",
    "read_events",
    "read_grid_cells",
    "read_meta",
    "read_reports",
    "read_reports_since",
    "read_streets",
    "read_zones",
    "report_conditions",
    "resolve_community",
    "scope_conditions",
    "sql_python_type",
    "sqlite_datetime_text",
    "write_meta",
]

_CHUNK = 100_000
#: Columns holding personal names and phone numbers (reporters, storefront contacts).
_NAME_COLUMNS = {"reporter_name", "responsible_person"}
_PHONE_COLUMNS = {"reporter_phone", "responsible_phone"}
# Tables in the order they may be filled (parents first).
_FILL_ORDER = (
    schema.community,
    schema.grid_cell,
    schema.street,
    schema.storefront_zone,
    schema.patrol,
    schema.report,
    schema.report_photo,
    schema.report_event,
    schema.operation,
    schema.operation_cell,
)


def sqlite_datetime_text(values: np.ndarray) -> list:
    """Datetimes as the text SQLAlchemy's SQLite DateTime stores; None where missing."""
    # SQLAlchemy's SQLite DateTime stores "YYYY-MM-DD HH:MM:SS.ffffff" and compares
    # these strings in range filters, so write exactly that format.
    values = values.astype("datetime64[us]")
    missing = np.isnat(values)
    text = np.datetime_as_string(values, unit="us").tolist()
    return [None if gone else f"{t[:10]} {t[11:]}" for t, gone in zip(text, missing, strict=True)]


def _column_values(series: pd.Series, sql_type, *, sqlite: bool) -> list:
    """One column as plain Python values for the DBAPI: None for every kind of missing."""
    python_type = sql_python_type(sql_type)
    if python_type is dt.datetime:
        values = pd.to_datetime(series).to_numpy(dtype="datetime64[us]")
        if sqlite:
            return sqlite_datetime_text(values)
        return [None if pd.isna(v) else v for v in pd.Series(values).dt.to_pydatetime()]
    if python_type is dt.date:
        values = [None if v is None or pd.isna(v) else pd.Timestamp(v).date() for v in series]
        return [None if v is None else v.isoformat() for v in values] if sqlite else values
    if python_type is bool:
        values = series.astype(object).where(series.notna(), None).tolist()
        return [None if v is None else int(bool(v)) for v in values] if sqlite else values
    if python_type is float:
        values = pd.to_numeric(series, errors="raise").astype("float64").to_numpy()
        return np.where(np.isnan(values), None, values).tolist()
    if python_type is int:
        values = pd.array(series, dtype="Int64")
        return values.to_numpy(dtype=object, na_value=None).tolist()
    if python_type is bytes:
        return list(series.to_numpy(dtype=object))
    return pd.Series(series, dtype=object).where(series.notna(), None).tolist()


def sql_python_type(sql_type) -> type:
    """The Python type a column holds (bytes for geometry on any database)."""
    sql_type = getattr(sql_type, "impl", sql_type)
    try:
        return sql_type.python_type
    except NotImplementedError:  # the PostGIS variant of Geometry
        return bytes


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of ``frame`` into ``table`` in bulk, converting whole columns.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        An open connection inside a transaction.
    table : sqlalchemy.Table
    frame : pandas.DataFrame
        Columns named as the table's; a ``geometry`` column is written to ``geom`` as WKB.
        Columns that are missing everywhere are left out (the database default applies).

    Returns
    -------
    int
        Rows inserted.
    """
    if frame.empty:
        return 0
    if "geometry" in frame.columns:
        geometry = np.asarray(frame["geometry"], dtype=object)
        frame = pd.DataFrame(frame.drop(columns="geometry"))
        frame["geom"] = shapely.to_wkb(geometry, output_dimension=2)
    unknown = set(frame.columns) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"columns not in table {table.name}: {sorted(unknown)}")
    names = [
        c.name for c in table.columns if c.name in frame.columns and frame[c.name].notna().any()
    ]
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        placeholders = ", ".join("?" * len(names))
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})"
        cursor = conn.connection.driver_connection.cursor()

    # Convert and send a chunk at a time: a million rows of Python tuples at once would
    # cost gigabytes. (Converting the next chunk in a thread meanwhile was slower: the
    # conversion and the DBAPI's parameter binding both hold the GIL.)
    for start in range(0, len(frame), _CHUNK):
        chunk = frame.iloc[start : start + _CHUNK]
        columns = [
            _column_values(chunk[name], table.columns[name].type, sqlite=sqlite) for name in names
        ]
        rows = zip(*columns, strict=True)
        if sqlite:
            # The DBAPI's own executemany: SQLAlchemy's per-row parameter processing
            # costs more than the insert itself at a million rows.
            cursor.executemany(sql, rows)
        else:
            conn.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
    if table.autoincrement_column is not None and table.autoincrement_column.name in names:
        advance_id_sequence(conn, table)
    return len(frame)


def advance_id_sequence(conn: Connection, table: Table) -> None:
    """After rows were written with their own ids, let new rows numbered by the database follow.

    PostgreSQL numbers rows from a sequence that explicit ids do not move: the next
    row without an id would get one already taken. SQLite numbers after the largest
    id by itself, so there this does nothing.

    Parameters
    ----------
    conn : sqlalchemy.Connection
    table : sqlalchemy.Table
        A table with an auto-incrementing integer primary key.
    """
    column = table.autoincrement_column
    if conn.dialect.name != "postgresql" or column is None:
        return
    quote = conn.dialect.identifier_preparer.quote
    # Never backwards: ids it gave out to rows not committed yet are not given again.
    conn.execute(
        text(
            "SELECT setval(seq, greatest(coalesce(pg_sequence_last_value(seq), 0),"
            f" (SELECT coalesce(max({quote(column.name)}), 0) FROM {quote(table.name)})) + 1,"
            " false) FROM (SELECT pg_get_serial_sequence(:table, :column)::regclass AS seq) AS s"
        ),
        {"table": table.name, "column": column.name},
    )


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
        columns = list(result.keys())
        rows = result.fetchall()
    if not rows:
        return pd.DataFrame(columns=columns)
    # Column lists, not Row objects: pandas would probe every Row (a third slower).
    values = map(list, zip(*rows, strict=True))
    return pd.DataFrame(dict(zip(columns, values, strict=True)), columns=columns)


def _read_frame_raw(engine: Engine, statement) -> pd.DataFrame:
    """Like :func:`_read_frame`, from the driver's own rows: about twice as fast on SQLite.

    SQLAlchemy converts every value of every row in Python (SQLite datetimes are parsed
    one by one); here the driver's tuples become columns directly, datetimes stay the
    stored text and the caller parses them vectorized. Only for SQLite: another
    database's driver returns other types (PostGIS geometry needs its column
    expression), so it takes the SQLAlchemy way. The same SQLite library as the
    engine's: a second copy in the process (ADBC) would drop the engine's file locks
    and WAL files when it closes.
    """
    if engine.dialect.name != "sqlite":
        return _read_frame(engine, statement)
    # Values written into the SQL by SQLAlchemy's own literal rendering (quoted, escaped).
    sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql)
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        finally:
            cursor.close()
    if not rows:
        return _read_frame(engine, statement)
    values = map(list, zip(*rows, strict=True))
    return pd.DataFrame(dict(zip(columns, values, strict=True)), columns=columns)


def _to_geoframe(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    geometry = shapely.from_wkb(frame.pop("geom").to_numpy()) if len(frame) else []
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def read_communities(engine: Engine, scope: Scope = EVERYTHING) -> gpd.GeoDataFrame:
    """Communities with their polygons, ordered by code (only the scope's own, if it has one)."""
    table = schema.community
    statement = select(table).order_by(table.c.code)
    if scope.community_id is not None:
        statement = statement.where(table.c.id == scope.community_id)
    if scope.cells is not None:
        cells = schema.grid_cell
        owners = select(cells.c.community_id).where(cells.c.cell.in_(list(scope.cells)))
        statement = statement.where(table.c.id.in_(owners))
    return _to_geoframe(_read_frame(engine, statement))


def read_grid_cells(
    engine: Engine, *, community_id: int | None = None, scope: Scope = EVERYTHING
) -> pd.DataFrame:
    """Grid cells (H3 at the grid resolution) with their community and grid worker, in scope."""
    table = schema.grid_cell
    statement = select(table).order_by(table.c.cell)
    if community_id is not None:
        statement = statement.where(table.c.community_id == community_id)
    for condition in scope_conditions(scope, table.c.community_id, table.c.cell, cell_res=GRID_RES):
        statement = statement.where(condition)
    return _read_frame(engine, statement)


def read_streets(engine: Engine) -> gpd.GeoDataFrame:
    """The street network."""
    return _to_geoframe(_read_frame(engine, select(schema.street).order_by(schema.street.c.id)))


def read_zones(engine: Engine, scope: Scope = EVERYTHING) -> gpd.GeoDataFrame:
    """Storefront responsibility zones (门前三包责任区) in scope, contacts masked unless allowed."""
    table = schema.storefront_zone
    statement = select(table).order_by(table.c.id)
    for condition in scope_conditions(scope, table.c.community_id, table.c.cell):
        statement = statement.where(condition)
    return _to_geoframe(mask_personal_data(_read_frame(engine, statement), scope))


def resolve_community(engine: Engine, community: str) -> int | None:
    """Community id for a code or a name, or None when there is no such community."""
    table = schema.community
    statement = select(table.c.id).where(
        (table.c.code == community.strip()) | (table.c.name == community.strip())
    )
    with engine.connect() as conn:
        return conn.execute(statement).scalar()


def report_conditions(engine: Engine, filters: ReportFilter) -> list[ColumnElement[bool]]:
    """The SQL conditions on ``schema.report`` that select the reports of ``filters``."""
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
    return conditions + scope_conditions(filters.scope, table.c.community_id, table.c.cell)


def scope_conditions(
    scope: Scope, community_id: ColumnElement, cell: ColumnElement, *, cell_res: int = STORED_RES
) -> list[ColumnElement[bool]]:
    """The SQL conditions that keep rows to ``scope``.

    Parameters
    ----------
    scope : Scope
    community_id : column
        The table's community id.
    cell : column
        The table's H3 cell; a grid worker's cells become index-friendly ranges.
    cell_res : int, default ``STORED_RES``
        The resolution of ``cell`` (``GRID_RES`` to ``STORED_RES``).
    """
    conditions: list[ColumnElement[bool]] = []
    if scope.community_id is not None:
        conditions.append(community_id == scope.community_id)
    if scope.cells is not None:
        if not scope.cells:
            return [false()]
        low, high = child_ranges(np.asarray(scope.cells, dtype=np.int64), cell_res)
        conditions.append(
            or_(*(cell.between(int(lo), int(hi)) for lo, hi in zip(low, high, strict=True)))
        )
    return conditions


def mask_personal_data(frame: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Mask the reporter and contact names and phones in ``frame`` unless ``scope`` may see them."""
    if scope.personal_data:
        return frame
    for column in set(frame.columns) & _NAME_COLUMNS:
        frame[column] = mask_name(frame[column]).to_numpy()
    for column in set(frame.columns) & _PHONE_COLUMNS:
        frame[column] = mask_phone(frame[column]).to_numpy()
    return frame


def count_reports(engine: Engine, filters: ReportFilter | None = None) -> int:
    """Number of reports matching ``filters``."""
    statement = select(func.count()).select_from(schema.report)
    for condition in report_conditions(engine, filters or ReportFilter()):
        statement = statement.where(condition)
    with engine.connect() as conn:
        return int(conn.execute(statement).scalar_one())


def count_flags(engine: Engine, filters: ReportFilter | None = None) -> dict[str, int]:
    """Relapses (反弹) and duplicates among the reports matching ``filters``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter, optional
        The same conditions as :func:`count_reports`.

    Returns
    -------
    dict
        ``relapses`` (reports with ``relapse_of`` set) and ``duplicates`` (with
        ``duplicate_of`` set).
    """
    table = schema.report
    statement = select(
        func.count(table.c.relapse_of).label("relapses"),
        func.count(table.c.duplicate_of).label("duplicates"),
    ).select_from(table)
    for condition in report_conditions(engine, filters or ReportFilter()):
        statement = statement.where(condition)
    with engine.connect() as conn:
        row = conn.execute(statement).one()
    return {"relapses": int(row.relapses), "duplicates": int(row.duplicates)}


def read_reports_since(
    engine: Engine, since: dt.datetime, categories: Collection[str] | None = None
) -> pd.DataFrame:
    """Reports reported or closed at or after ``since``, to match new reports against.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    since : datetime.datetime
    categories : collection of str, optional
        Only these categories; all when omitted.

    Returns
    -------
    pandas.DataFrame
        Plain columns ``id`` (int64), ``category``, ``lng``, ``lat``, ``reported_at``,
        ``status``, ``resolved_at``, ``closed_at`` (``datetime64[ns]``, NaT where missing),
        ordered by id.
    """
    table = schema.report
    columns = ("id", "category", "lng", "lat", "reported_at", "status", "resolved_at")
    statement = (
        select(*(table.c[name] for name in (*columns, "closed_at")))
        .where((table.c.reported_at >= since) | (table.c.closed_at >= since))
        .order_by(table.c.id)
    )
    if categories is not None:
        statement = statement.where(table.c.category.in_(sorted(set(categories))))
    frame = _read_frame(engine, statement)
    frame["id"] = frame["id"].astype(np.int64)
    for column in ("lng", "lat"):
        frame[column] = frame[column].astype(np.float64)
    for column in ("reported_at", "resolved_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame


def read_reports(
    engine: Engine,
    filters: ReportFilter | None = None,
    *,
    columns: Sequence[str] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Reports matching ``filters`` with their category, layer and community names.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter, optional
    columns : sequence of str, optional
        Only these ``report`` columns (a page that needs a few reads them twice as
        fast); ``"geom"`` among them gives the geometry. Every column when omitted.
    where : sequence of SQLAlchemy conditions
        Further conditions on ``schema.report``.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The columns, plus ``category_name``, ``layer`` and ``community`` (the
        community code), ordered by id, with the same dtypes whatever the columns;
        a GeoDataFrame (EPSG:4326) when the geometry was read.
    """
    report, community = schema.report, schema.community
    chosen = list(report.c) if columns is None else [report.c[name] for name in columns]
    statement = (
        select(*chosen, community.c.code.label("community"))
        .select_from(report.outerjoin(community, report.c.community_id == community.c.id))
        .order_by(report.c.id)
    )
    for condition in [*report_conditions(engine, filters or ReportFilter()), *where]:
        statement = statement.where(condition)
    frame = _read_frame_raw(engine, statement)
    catalogue = taxonomy.load_categories()
    codes = frame["category"].to_numpy(dtype=object)
    frame["category_name"] = catalogue["name_zh"].reindex(codes).to_numpy()
    frame["layer"] = catalogue["layer"].reindex(codes).to_numpy()
    present = set(frame.columns)
    for column in {"id", "cell"} & present:
        frame[column] = frame[column].astype(np.int64)
    for column in {"lng", "lat"} & present:
        frame[column] = frame[column].astype(np.float64)
    for column in {"reported_at", "due_at", "resolved_at", "closed_at"} & present:
        frame[column] = pd.to_datetime(frame[column])
    for column in {"community_id", "zone_id", "duplicate_of", "relapse_of"} & present:
        frame[column] = frame[column].astype("Int64")
    frame = mask_personal_data(frame, (filters or ReportFilter()).scope)
    return _to_geoframe(frame) if "geom" in present else frame


def read_events(engine: Engine, *, report_id: int | None = None) -> pd.DataFrame:
    """Status-change events, oldest first."""
    table = schema.report_event
    statement = select(table).order_by(table.c.report_id, table.c.at, table.c.id)
    if report_id is not None:
        statement = statement.where(table.c.report_id == report_id)
    return _read_frame(engine, statement)
