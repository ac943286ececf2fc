"""Bulk loading: a large batch in one transaction, by ADBC on SQLite and COPY on PostgreSQL."""

from __future__ import annotations

import binascii
import datetime as dt
import logging
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Engine, Table, func, select, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from hotspot.store.frames import advance_id_sequence, sql_python_type, sqlite_datetime_text
from hotspot.store.schema import index_applies

__all__ = ["BulkLoader"]

log = logging.getLogger(__name__)


#: PostGIS reads a geometry's text as hex WKB after an SRID prefix (EWKT-style).
_EWKB_PREFIX = "SRID=4326;"
#: COPY's CSV: every value quoted, NULL as an empty unquoted field (so '' stays '').
_CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")


def _arrow_column(values: pd.Series, python_type: type) -> pa.Array:
    """A column as Arrow for SQLite's ADBC ingest (datetimes as SQLAlchemy's text)."""
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


def _copy_column(values: pd.Series, python_type: type) -> pa.Array:
    """A column as Arrow for PostgreSQL's COPY CSV (geometry as SRID-prefixed hex WKB)."""
    if python_type is dt.datetime:
        return pa.array(pd.to_datetime(values).to_numpy(dtype="datetime64[us]"))
    if python_type is dt.date:
        return pa.array([None if pd.isna(v) else pd.Timestamp(v).date() for v in values])
    if python_type is bytes:
        return _ewkb_text(values)
    if python_type is bool:
        return pa.array(values.astype("boolean"))
    return _arrow_column(values, python_type)


def _ewkb_text(values: pd.Series) -> pa.Array:
    """WKB values as PostGIS's text of them: ``SRID=4326;`` and the hex digits.

    The digits come from one pass over Arrow's value buffer, not one ``bytes.hex()``
    per geometry (that held the GIL for half a second a million rows, while the next
    chunk was being checked).
    """
    wkb = pa.array(values.to_numpy(dtype=object), type=pa.large_binary(), from_pandas=True)
    if wkb.null_count == len(wkb):
        return pa.nulls(len(wkb), pa.large_string())
    validity, offsets, data = wkb.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64, count=len(wkb) + 1)
    digits = binascii.hexlify(memoryview(data)[offsets[0] : offsets[-1]]) if data else b""
    hexed = pa.LargeStringArray.from_buffers(
        len(wkb), pa.py_buffer(2 * (offsets - offsets[0])), pa.py_buffer(digits), validity
    )
    text_type = pa.large_string()
    return pc.binary_join_element_wise(
        pa.scalar(_EWKB_PREFIX, text_type), hexed, pa.scalar("", text_type)
    )


def _copy_csv(batch: pa.Table) -> pa.Buffer:
    """``batch`` as the CSV that ``COPY ... (FORMAT csv)`` reads."""
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(batch, sink, _CSV_OPTIONS)
    return sink.getvalue()


class BulkLoader:
    """Append frames to a table in one transaction, numbering rows after the last id.

    On SQLite the rows go in through ADBC as Arrow columns (no Python object per
    value), each batch written by a background thread while the caller prepares the
    next one (ADBC releases the GIL); when the load is at least as large as the table,
    its indexes are dropped first and rebuilt at the end, one sort each instead of a
    million random inserts.

    On PostgreSQL the background thread writes each batch as CSV (Arrow's writer,
    geometry as ``SRID=4326;`` and hex WKB) and sends it with ``COPY ... FROM STDIN``.
    The table is locked against other writers (``SHARE ROW EXCLUSIVE``: pages go on
    reading; a status change or another import waits, as on SQLite), so the ids after
    the last one are free; the id sequence is moved past them before the commit. A
    load smaller than the table, or than :attr:`REBUILD_MIN_ROWS`, is copied straight
    into it with its indexes kept. A larger one is copied into a temporary table first
    and moved in by the background thread once :meth:`start_indexing` is called, with
    the table's indexes and foreign keys dropped and rebuilt (a sort each instead of a
    million index inserts and key checks) while the caller works out what
    :meth:`update` sets; only then, for that last stage, do readers of the table wait.
    It all stays one transaction on one connection (used by one thread at a time), so
    a failure or a kill at any point leaves the table as it was.

    Leaving the ``with`` block without :meth:`commit` (an error, a rejected file) rolls
    everything back.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    table : sqlalchemy.Table
    expected_rows : int
        Roughly how many rows will come, to decide whether to rebuild the indexes.
    id_column : str, default "id"
        The integer primary key to number the new rows by.
    """

    #: On PostgreSQL, loads of fewer rows keep the indexes (and readers never wait).
    REBUILD_MIN_ROWS = 100_000

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
        self._writer: ThreadPoolExecutor | None = None
        #: where COPY writes: the table, or the temporary table of a large load
        self._target = table.name

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
                self._indexes = [i for i in self.table.indexes if index_applies(i, "sqlite")]
            for index in self._indexes:
                self._cursor.execute(str(DropIndex(index).compile(dialect=self.engine.dialect)))
        else:
            self._conn = self.engine.connect()
            self._transaction = self._conn.begin()
            # Readers (ACCESS SHARE) go on; writers of the table wait for the commit.
            self._conn.execute(text(f"LOCK TABLE {self.table.name} IN SHARE ROW EXCLUSIVE MODE"))
            key = self.table.c[self.id_column]
            last_id, existing = self._conn.execute(select(func.max(key), func.count())).one()
            last_id = last_id or 0
            if self.expected_rows >= max(int(existing), self.REBUILD_MIN_ROWS):
                self._target = f"_bulk_load_{self.table.name}"
                self._conn.execute(
                    text(
                        f"CREATE TEMPORARY TABLE {self._target} "
                        f"(LIKE {self.table.name} INCLUDING DEFAULTS) ON COMMIT DROP"
                    )
                )
        self._writer = ThreadPoolExecutor(max_workers=1)
        self.first_id = self.next_id = int(last_id) + 1
        return self

    def append(self, frame: pd.DataFrame) -> None:
        """Queue ``frame`` (table columns without the id; ``geom`` as WKB) for writing."""
        if frame.empty:
            return
        ids = np.arange(self.next_id, self.next_id + len(frame), dtype=np.int64)
        self.next_id += len(frame)
        self.rows += len(frame)
        names = [
            c.name
            for c in self.table.columns
            if c.name in frame.columns and frame[c.name].notna().any()
        ]
        self._wait()
        if self._sqlite:
            arrays = [
                _arrow_column(frame[n], sql_python_type(self.table.columns[n].type)) for n in names
            ]
            batch = pa.table([pa.array(ids), *arrays], names=[self.id_column, *names])
            self._pending = self._writer.submit(
                self._cursor.adbc_ingest, self.table.name, batch, mode="append"
            )
        else:
            self._pending = self._writer.submit(self._copy_in, frame[names], ids)

    def _copy_in(self, frame: pd.DataFrame, ids: np.ndarray) -> None:
        """Convert ``frame`` and send it to PostgreSQL by COPY (in the writer thread)."""
        arrays = [
            _copy_column(frame[n], sql_python_type(self.table.columns[n].type))
            for n in frame.columns
        ]
        names = [self.id_column, *frame.columns]
        data = _copy_csv(pa.table([pa.array(ids), *arrays], names=names))
        self._copy(f"COPY {self._target} ({', '.join(names)}) FROM STDIN (FORMAT csv)", data)

    def _copy(self, sql: str, data: pa.Buffer) -> None:
        cursor = self._conn.connection.driver_connection.cursor()
        try:
            with cursor.copy(sql) as copy:
                copy.write(memoryview(data))
        finally:
            cursor.close()

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
        index, and psycopg waits for the server, without holding the GIL). On PostgreSQL
        a large load is moved in from its temporary table and the table's indexes and
        keys rebuilt (:meth:`_move_in`); from then on readers of the table wait for the
        commit, so read what the update needs first. A small load only waits for its rows.
        """
        if self._indexing is not None:
            return
        self._wait()
        if self._sqlite:
            self._indexing = self._writer.submit(self._rebuild_indexes)
        elif self._staged:
            self._indexing = self._writer.submit(self._move_in)

    @property
    def _staged(self) -> bool:
        """Whether a PostgreSQL load goes through a temporary table (indexes rebuilt)."""
        return self._target != self.table.name

    def _indexed(self) -> None:
        """Wait for the rows and the rebuilt indexes (re-raising the rebuild's error)."""
        self.start_indexing()
        if self._indexing is not None:
            self._indexing.result()

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
        key = pa.array(np.asarray(ids, dtype=np.int64))
        self._indexed()
        if self._sqlite:
            assignments = ", ".join(f"{name} = ?" for name in values)
            sql = f"UPDATE {self.table.name} SET {assignments} WHERE {self.id_column} = ?"
            self._cursor.executemany(sql, pa.table({**values, "_id": key}))
            return
        # COPY the new values into a scratch table, then one UPDATE joins them in. A
        # large load is in the table by now, its indexes rebuilt: the join goes by the
        # primary key, and only the flagged rows are rewritten.
        scratch = f"_bulk_update_{self.table.name}"
        declared = ", ".join(f"{name} bigint" for name in values)
        self._conn.execute(
            text(f"CREATE TEMPORARY TABLE {scratch} (_id bigint, {declared}) ON COMMIT DROP")
        )
        self._copy(
            f"COPY {scratch} FROM STDIN (FORMAT csv)", _copy_csv(pa.table({"_id": key, **values}))
        )
        # Its size, so that the planner looks few flagged rows up by key, not by a scan.
        self._conn.execute(text(f"ANALYZE {scratch}"))
        settings = ", ".join(f"{name} = u.{name}" for name in values)
        self._conn.execute(
            text(
                f"UPDATE {self.table.name} AS t SET {settings} FROM {scratch} AS u "
                f"WHERE t.{self.id_column} = u._id"
            )
        )
        self._conn.execute(text(f"DROP TABLE {scratch}"))
        if self._staged:
            # The rebuild analyzed the table before these values were set.
            self._conn.execute(text(f"ANALYZE {self.table.name} ({', '.join(values)})"))

    def commit(self) -> None:
        """Write what is queued, wait for the rebuilt indexes and commit."""
        self._indexed()
        if self._sqlite:
            self._conn.commit()
        else:
            advance_id_sequence(self._conn, self.table)
            self._transaction.commit()
        self._committed = True
        log.info("loaded %d rows into %s", self.rows, self.table.name)

    def _move_in(self) -> None:
        """Move a large load from its temporary table in, rebuilding indexes and keys.

        Runs in the writer thread (see :meth:`start_indexing`); psycopg releases the GIL
        while the server works, so the caller's matching runs meanwhile.
        """
        dialect = self.engine.dialect
        indexes = [i for i in self.table.indexes if index_applies(i, dialect.name)]
        keys = sorted(self.table.foreign_key_constraints, key=lambda k: k.name)
        for key in keys:
            self._conn.execute(DropConstraint(key))
        for index in indexes:
            self._conn.execute(DropIndex(index))
        columns = ", ".join(self.table.columns.keys())
        self._conn.execute(
            text(f"INSERT INTO {self.table.name} ({columns}) SELECT {columns} FROM {self._target}")
        )
        self._conn.execute(text(f"DROP TABLE {self._target}"))
        for index in indexes:
            self._conn.execute(CreateIndex(index))
        for key in keys:
            self._conn.execute(AddConstraint(key))
        # The planner's statistics, for the pages that read the table next.
        self._conn.execute(text(f"ANALYZE {self.table.name}"))

    def __exit__(self, *exc_info) -> None:
        try:
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
