"""Importing report files into the store: read, validate, attribute, write in one transaction."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, func, select

from geo.crs import normalize_crs
from hotspot.errors import UserError
from hotspot.intake.reports import map_columns, validate_reports
from hotspot.intake.tables import read_csv_table
from hotspot.store import bulk, frames, schema

__all__ = ["ImportResult", "RejectedFile", "import_reports", "read_report_table", "rejects_path"]

log = logging.getLogger(__name__)
_ID_CHUNK = 5_000


class RejectedFile(UserError):
    """A file with bad rows, imported without --skip-invalid: nothing was written."""


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    total: int
    valid: int
    imported: int
    rejected: int
    already_imported: int
    rejects_file: Path | None
    dry_run: bool
    timings: dict[str, float] = field(default_factory=dict)


def rejects_path(path: Path) -> Path:
    """Where the rejected rows of ``path`` are written: ``FILE.rejects.csv`` beside it."""
    return path.with_name(path.name + ".rejects.csv")


def read_report_table(path: Path, fmt: str | None = None) -> pd.DataFrame:
    """Read a tabular report file (CSV or XLSX) into a frame of strings.

    Parameters
    ----------
    path : pathlib.Path
    fmt : str, optional
        ``csv`` or ``xlsx``; guessed from the file name when omitted.

    Returns
    -------
    pandas.DataFrame
    """
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt in ("csv", "txt"):
        return read_csv_table(path)
    if fmt in ("xlsx", "xlsm"):
        try:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            raise UserError(f"{path.name}: not a readable XLSX workbook ({exc})") from None
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame
    raise UserError(f"{path.name}: unsupported import format {fmt!r}; use csv or xlsx")


def _existing_ids(engine: Engine, ids: list[str]) -> frozenset[str]:
    column = schema.report.c.external_id
    with engine.connect() as conn:
        stored = conn.execute(select(func.count(column))).scalar_one()
        if not stored or not ids:
            return frozenset()
        if stored <= len(ids):
            # Fewer ids in the store than in the file: read them all at once.
            found = conn.execute(select(column).where(column.is_not(None))).scalars()
            return frozenset(ids).intersection(found)
        hits: set[str] = set()
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            hits.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
        return frozenset(hits)


def import_reports(
    engine: Engine,
    path: Path,
    *,
    crs: str = "wgs84",
    fmt: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    overrides: Mapping[str, str] | None = None,
) -> ImportResult:
    """Import a report file; all or nothing unless ``skip_invalid``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    path : pathlib.Path
    crs : str, default "wgs84"
        Coordinate system of the file's lng/lat.
    fmt : str, optional
        File format, guessed from the name when omitted.
    skip_invalid : bool, default False
        Import the good rows of a file that has bad ones.
    dry_run : bool, default False
        Validate only; write nothing to the store.
    overrides : mapping, optional
        field -> header (``--map``).

    Returns
    -------
    ImportResult

    Raises
    ------
    RejectedFile
        Bad rows without ``skip_invalid``; FILE.rejects.csv lists them.
    UserError
        The file cannot be read at all.
    """
    try:
        crs = normalize_crs(crs)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    with _collector_paused():
        return _import(
            engine,
            path,
            crs=crs,
            fmt=fmt,
            skip_invalid=skip_invalid,
            dry_run=dry_run,
            overrides=overrides,
        )


@contextmanager
def _collector_paused() -> Iterator[None]:
    # A large import makes millions of small objects that are never cyclic; the cyclic
    # garbage collector would scan them again and again (a second per million rows).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(
    engine: Engine,
    path: Path,
    *,
    crs: str,
    fmt: str | None,
    skip_invalid: bool,
    dry_run: bool,
    overrides: Mapping[str, str] | None,
) -> ImportResult:
    clock = _Stopwatch()
    raw = read_report_table(path, fmt)
    if raw.empty:
        raise UserError(f"{path.name}: no data rows under the header")
    mapping = map_columns(raw, overrides)
    clock.lap("read")
    communities = frames.read_communities(engine)
    zones = frames.read_zones(engine)
    ids = raw[mapping["id"]].str.strip() if "id" in mapping else pd.Series([], dtype=str)
    existing = _existing_ids(engine, ids[ids != ""].unique().tolist())
    service_area = shapely.union_all(communities.geometry.to_numpy()) if len(communities) else None
    clock.lap("lookup")
    validated = validate_reports(
        raw,
        crs=crs,
        mapping=mapping,
        service_area=service_area,
        grid=frames.read_grid_cells(engine),
        communities=communities,
        zones=zones,
        existing_ids=existing,
    )
    del raw
    clock.lap("validate")
    out = rejects_path(path)
    if len(validated.rejects):
        validated.rejects.to_csv(out, index=False, encoding="utf-8-sig")
    elif out.exists():
        out.unlink()
    rejects_file = out if len(validated.rejects) else None
    if len(validated.rejects) and not skip_invalid:
        first = validated.rejects.iloc[0]
        raise RejectedFile(
            f"{path.name}: {validated.rejected_rows} of {validated.total} rows rejected, "
            f"nothing imported (first: row {first['row']}, {first['field']}: {first['reason']}); "
            f"every rejected row is in {out.name}; use --skip-invalid to import the good rows"
        )
    reports = validated.reports
    if not dry_run and len(reports):
        _write_reports(engine, reports)
    clock.lap("write")
    return ImportResult(
        total=validated.total,
        valid=len(reports),
        imported=0 if dry_run else len(reports),
        rejected=validated.rejected_rows,
        already_imported=validated.already_imported,
        rejects_file=rejects_file,
        dry_run=dry_run,
        timings=clock.laps,
    )


def _write_reports(engine: Engine, reports: pd.DataFrame) -> None:
    rows = reports.drop(columns="row")
    if engine.dialect.name == "sqlite":
        bulk.ingest(engine, schema.report, rows)
    else:
        table = schema.report
        with engine.begin() as conn:
            last_id = conn.execute(select(func.max(table.c.id))).scalar() or 0
            rows = rows.assign(id=np.arange(last_id + 1, last_id + 1 + len(rows)))
            frames.insert_frame(conn, table, rows)
    log.info("imported %d reports", len(rows))


class _Stopwatch:
    """Seconds spent in each stage, for ``hotspot import -v`` and bench/ingest.py."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now
