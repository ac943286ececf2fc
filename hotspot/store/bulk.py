"""Bulk loading through ADBC: Arrow columns straight into SQLite, no Python object per value."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, Table
from sqlalchemy.schema import CreateIndex, DropIndex

from hotspot.store.frames import sql_python_type, sqlite_datetime_text

__all__ = ["ingest"]

log = logging.getLogger(__name__)


def _arrow_column(values: pd.Series, python_type: type) -> pa.Array:
    if python_type is dt.datetime:
        stamps = pd.to_datetime(values).to_numpy(dtype="datetime64[us]")
        return pa.array(sqlite_datetime_text(stamps), type=pa.string())
    if python_type is float:
        return pa.array(pd.to_numeric(values).astype("float64").to_numpy(), from_pandas=True)
    if python_type in (int, bool):
        return pa.array(pd.array(values, dtype="Int64"))
    if python_type is bytes:
        return pa.array(values.to_numpy(dtype=object), type=pa.binary())
    return pa.array(values.astype("string[pyarrow]"))


def ingest(
    engine: Engine, table: Table, frame: pd.DataFrame, *, first_id_column: str = "id"
) -> int:
    """Append ``frame`` to ``table`` in one transaction, numbering rows after the last id.

    The table's indexes are dropped for the load and rebuilt after it (one sort each
    instead of a million random inserts); a failure rolls all of it back.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        An SQLite store (other databases: see :func:`hotspot.store.frames.insert_frame`).
    table : sqlalchemy.Table
    frame : pandas.DataFrame
        Columns named as the table's, without the id; ``geom`` already WKB.
    first_id_column : str, default "id"
        The integer primary key to number the new rows by.

    Returns
    -------
    int
        The first id given.
    """
    import adbc_driver_sqlite.dbapi as adbc

    names = [
        c.name for c in table.columns if c.name in frame.columns and frame[c.name].notna().any()
    ]
    arrays = [_arrow_column(frame[n], sql_python_type(table.columns[n].type)) for n in names]
    path = engine.url.database
    dialect = engine.dialect
    with adbc.connect(path) as conn, conn.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute(f"SELECT coalesce(max({first_id_column}), 0) FROM {table.name}")
        first_id = int(cursor.fetchone()[0]) + 1
        ids = pa.array(np.arange(first_id, first_id + len(frame), dtype=np.int64))
        batch = pa.table([ids, *arrays], names=[first_id_column, *names])
        cursor.execute(f"SELECT count(*) FROM {table.name}")
        rebuild = len(frame) >= int(cursor.fetchone()[0])
        indexes = list(table.indexes) if rebuild else []
        for index in indexes:
            cursor.execute(str(DropIndex(index).compile(dialect=dialect)))
        cursor.adbc_ingest(table.name, batch, mode="append")
        for index in indexes:
            cursor.execute(str(CreateIndex(index).compile(dialect=dialect)))
        conn.commit()
    log.info("loaded %d rows into %s", len(frame), table.name)
    return first_id
