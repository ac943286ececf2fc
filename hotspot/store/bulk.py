"""Bulk loading: a large batch appended in one transaction, through ADBC on SQLite."""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, Table, bindparam, func, select
from sqlalchemy.schema import CreateIndex, DropIndex

from hotspot.store.frames import insert_frame, sql_python_type, sqlite_datetime_text

__all__ = ["BulkLoader"]

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


class BulkLoader:
    """Append frames to a table in one transaction, numbering rows after the last id.

    On SQLite the rows go in through ADBC as Arrow columns (no Python object per
    value), each batch written by a background thread while the caller prepares the
    next one (ADBC releases the GIL); when the load is at least as large as the table,
    its indexes are dropped first and rebuilt at the end, one sort each instead of a
    million random inserts. Other databases get the rows through
    :func:`hotspot.store.frames.insert_frame`. Leaving the ``with`` block without
    :meth:`commit` (an error, a rejected file) rolls everything back.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    table : sqlalchemy.Table
    expected_rows : int
        Roughly how many rows will come, to decide whether to rebuild the indexes.
    id_column : str, default "id"
        The integer primary key to number the new rows by.
    """

    def __init__(
        self, engine: Engine, table: Table, *, expected_rows: int, id_column: str = "id"
    ) -> None:
        self.engine = engine
        self.table = table
        self.expected_rows = expected_rows
        self.id_column = id_column
        self.rows = 0
        self._sqlite = engine.dialect.name == "sqlite"
        self._pending: Future | None = None
        self._indexing: Future | None = None
        self._committed = False
        self._indexes: list = []

    def __enter__(self) -> BulkLoader:
        if self._sqlite:
            import adbc_driver_sqlite.dbapi as adbc

            self._conn = adbc.connect(self.engine.url.database)
            self._cursor = self._conn.cursor()
            self._cursor.execute("PRAGMA busy_timeout = 30000")
            self._cursor.execute(
                f"SELECT coalesce(max({self.id_column}), 0), count(*) FROM {self.table.name}"
            )
            last_id, existing = self._cursor.fetchone()
            if self.expected_rows >= int(existing):
                self._indexes = list(self.table.indexes)
            for index in self._indexes:
                self._cursor.execute(str(DropIndex(index).compile(dialect=self.engine.dialect)))
            self._writer = ThreadPoolExecutor(max_workers=1)
        else:
            self._conn = self.engine.connect()
            self._transaction = self._conn.begin()
            id_column = self.table.c[self.id_column]
            last_id = self._conn.execute(select(func.max(id_column))).scalar() or 0
        self.first_id = self.next_id = int(last_id) + 1
        return self

    def append(self, frame: pd.DataFrame) -> None:
        """Queue ``frame`` (table columns without the id; ``geom`` as WKB) for writing."""
        if frame.empty:
            return
        ids = np.arange(self.next_id, self.next_id + len(frame), dtype=np.int64)
        self.next_id += len(frame)
        self.rows += len(frame)
        if not self._sqlite:
            insert_frame(self._conn, self.table, frame.assign(**{self.id_column: ids}))
            return
        names = [
            c.name
            for c in self.table.columns
            if c.name in frame.columns and frame[c.name].notna().any()
        ]
        arrays = [
            _arrow_column(frame[n], sql_python_type(self.table.columns[n].type)) for n in names
        ]
        batch = pa.table([pa.array(ids), *arrays], names=[self.id_column, *names])
        self._wait()
        self._pending = self._writer.submit(
            self._cursor.adbc_ingest, self.table.name, batch, mode="append"
        )

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _rebuild_indexes(self) -> None:
        for index in self._indexes:
            self._cursor.execute(str(CreateIndex(index).compile(dialect=self.engine.dialect)))

    def start_indexing(self) -> None:
        """Rebuild the dropped indexes in the background once the queued rows are in.

        The caller can meanwhile work out what :meth:`update` needs (SQLite builds an
        index without holding the GIL).
        """
        if self._sqlite and self._indexing is None:
            self._wait()
            self._indexing = self._writer.submit(self._rebuild_indexes)

    def update(self, ids: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        """Set ``columns`` on the loaded rows ``ids`` (after indexing, in the same transaction).

        Parameters
        ----------
        ids : numpy.ndarray of int64
        columns : dict of str to numpy.ndarray
            Integer values aligned with ``ids``; negative means NULL.
        """
        if not len(ids):
            return
        values = {
            name: pa.array(np.asarray(v, dtype=np.int64), mask=np.asarray(v) < 0)
            for name, v in columns.items()
        }
        assignments = ", ".join(f"{name} = ?" for name in values)
        if self._sqlite:
            self.start_indexing()
            self._indexing.result()
            sql = f"UPDATE {self.table.name} SET {assignments} WHERE {self.id_column} = ?"
            params = pa.table({**values, "_id": pa.array(np.asarray(ids, dtype=np.int64))})
            self._cursor.executemany(sql, params)
        else:
            key = self.table.c[self.id_column]
            statement = (
                self.table.update()
                .where(key == bindparam("_id"))
                .values({name: bindparam(name) for name in values})
            )
            rows = pa.table({**values, "_id": pa.array(np.asarray(ids, dtype=np.int64))})
            self._conn.execute(statement, rows.to_pylist())

    def commit(self) -> None:
        """Write what is queued, rebuild dropped indexes and commit."""
        if self._sqlite:
            self.start_indexing()
            self._indexing.result()
            self._conn.commit()
        else:
            self._transaction.commit()
        self._committed = True
        log.info("loaded %d rows into %s", self.rows, self.table.name)

    def __exit__(self, *exc_info) -> None:
        try:
            if self._sqlite:
                try:
                    self._wait()
                    if self._indexing is not None:
                        self._indexing.result()
                except Exception:
                    if exc_info[0] is None:
                        raise
                finally:
                    self._writer.shutdown(wait=True)
            if not self._committed:
                self._conn.rollback()
        finally:
            if self._sqlite:
                self._cursor.close()
            self._conn.close()
            if self._sqlite:
                # ADBC brings its own copy of SQLite. Closing its connection, that copy
                # sees no other one (POSIX locks do not tell copies in one process apart),
                # checkpoints and deletes the WAL and its index; the engine's pooled
                # sqlite3 connections would go on reading stale pages. Start them anew.
                # (Never load this way inside the dashboard's server process: see
                # hotspot.reporting.import_in_child.)
                self.engine.dispose()
