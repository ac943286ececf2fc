"""Importing report files into the store: read, validate, attribute, write in one transaction."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, func, select

from geo.crs import normalize_crs
from geo.relapse import find_duplicates, find_relapses
from hotspot.errors import UserError
from hotspot.intake.reports import (
    FIRST_DATA_ROW,
    map_columns,
    repeated_id_rows,
    validate_reports,
)
from hotspot.intake.tables import read_csv_table
from hotspot.store import frames, schema
from hotspot.store.bulk import BulkLoader

__all__ = ["ImportResult", "RejectedFile", "import_reports", "read_report_table", "rejects_path"]

log = logging.getLogger(__name__)
_ID_CHUNK = 5_000
# Rows checked at a time; the loader writes one chunk while the next is converted.
_CHUNK = 200_000
# Relapse (反弹) and duplicate rules of DESIGN.md "Data model".
RELAPSE_DISTANCE_M = 30.0
RELAPSE_WINDOW_DAYS = 60.0
DUPLICATE_DISTANCE_M = 20.0
DUPLICATE_WINDOW_HOURS = 24.0


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
    relapses: int = 0
    duplicates: int = 0
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
    ids = (
        raw[mapping["id"]].astype("string[pyarrow]").fillna("").str.strip()
        if "id" in mapping
        else pd.Series("", index=raw.index, dtype="string[pyarrow]")
    )
    area = shapely.union_all(communities.geometry.to_numpy()) if len(communities) else None
    context = {
        "crs": crs,
        "mapping": mapping,
        "service_area": area,
        "grid": frames.read_grid_cells(engine),
        "communities": communities,
        "zones": frames.read_zones(engine),
        "existing_ids": _existing_ids(engine, ids[ids != ""].unique().tolist()),
    }
    # Repeated ids are found over the whole file, so that chunks can be checked alone.
    repeats = repeated_id_rows(ids)
    clock.lap("lookup")

    # Check the file a chunk at a time and hand each chunk's good rows to the loader,
    # which writes them in the background while the next chunk is checked. A bad row
    # anywhere (without --skip-invalid) stops the writing and rolls all of it back.
    # Relapses and duplicates are then found among all the good rows at once (a file
    # need not be in date order) while the loader rebuilds the indexes, and set on the
    # loaded rows in the same transaction.
    rejects, checked, already = [], [], 0
    loader = None if dry_run else BulkLoader(engine, schema.report, expected_rows=len(raw))
    with loader or nullcontext():
        for start in range(0, len(raw), _CHUNK):
            chunk = validate_reports(
                raw.iloc[start : start + _CHUNK],
                **context,
                first_row=FIRST_DATA_ROW + start,
                repeats=repeats[start : start + _CHUNK],
            )
            rejects.append(chunk.rejects)
            checked.append(chunk.reports.drop(columns="row"))
            already += chunk.already_imported
            clean = not any(len(r) for r in rejects)
            if loader is not None and (skip_invalid or clean):
                loader.append(checked[-1])
        rejects = pd.concat(rejects, ignore_index=True)
        valid = sum(len(c) for c in checked)
        clock.lap("check+load")
        rejected_rows = int(rejects["row"].nunique())
        out = _write_rejects(path, rejects)
        if rejected_rows and not skip_invalid:
            first = rejects.iloc[0]
            raise RejectedFile(
                f"{path.name}: {rejected_rows} of {len(raw)} rows rejected, nothing imported "
                f"(first: row {first['row']}, {first['field']}: {first['reason']}); "
                f"every rejected row is in {out.name}; use --skip-invalid to import the good rows"
            )
        if loader is not None:
            loader.start_indexing()
        first_id = loader.first_id if loader is not None else _next_id(engine)
        relapse_of, duplicate_of = _find_matches(engine, checked, first_id=first_id)
        flagged = np.flatnonzero((relapse_of >= 0) | (duplicate_of >= 0))
        if loader is not None:
            loader.update(
                first_id + flagged,
                {"relapse_of": relapse_of[flagged], "duplicate_of": duplicate_of[flagged]},
            )
        clock.lap("relapses")
        if loader is not None:
            loader.commit()
        relapses, duplicates = int((relapse_of >= 0).sum()), int((duplicate_of >= 0).sum())
    clock.lap("index+commit")
    return ImportResult(
        total=len(raw),
        valid=valid,
        imported=0 if dry_run else valid,
        rejected=rejected_rows,
        already_imported=already,
        rejects_file=out if rejected_rows else None,
        dry_run=dry_run,
        relapses=relapses,
        duplicates=duplicates,
        timings=clock.laps,
    )


def _next_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(schema.report.c.id))).scalar() or 0) + 1


def _find_matches(
    engine: Engine, checked: list[pd.DataFrame], *, first_id: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``relapse_of`` and ``duplicate_of`` ids of the good rows of a file (-1: none).

    The new rows are matched against the store's reports that could be their parents
    (reported or closed within the longer window before the file's earliest report, of
    the file's categories) and against each other. The loader numbers the rows after
    the store's last id in the order they are appended, so the row at position ``k``
    of the concatenated chunks will get id ``first_id + k``; a match within the file
    uses that id directly. Store reports are not flagged by later rows of the file.
    """
    names = ["category", "lng", "lat", "reported_at", "status", "resolved_at", "closed_at"]
    n = sum(len(chunk) for chunk in checked)
    relapse_of = np.full(n, -1, dtype=np.int64)
    duplicate_of = relapse_of.copy()
    if n:
        # only the columns matched on: the whole rows (WKB, texts) would cost a copy
        new = pd.concat([chunk[names] for chunk in checked], ignore_index=True)
        new["id"] = np.arange(first_id, first_id + n, dtype=np.int64)
        for name in ("reported_at", "resolved_at", "closed_at"):
            new[name] = new[name].astype("datetime64[ns]")
        window = max(
            pd.Timedelta(days=RELAPSE_WINDOW_DAYS), pd.Timedelta(hours=DUPLICATE_WINDOW_HOURS)
        )
        since = (new["reported_at"].min() - window).to_pydatetime()
        stored = frames.read_reports_since(engine, since, new["category"].unique().tolist())
        own = new[stored.columns]
        earlier = pd.concat([stored, own], ignore_index=True) if len(stored) else own
        relapse_of = find_relapses(
            new, earlier, distance_m=RELAPSE_DISTANCE_M, window_days=RELAPSE_WINDOW_DAYS
        )
        duplicate_of = find_duplicates(
            new, earlier, distance_m=DUPLICATE_DISTANCE_M, window_hours=DUPLICATE_WINDOW_HOURS
        )
    return relapse_of, duplicate_of


def _write_rejects(path: Path, rejects: pd.DataFrame) -> Path:
    out = rejects_path(path)
    if len(rejects):
        rejects.to_csv(out, index=False, encoding="utf-8-sig")
    elif out.exists():
        out.unlink()
    return out


class _Stopwatch:
    """Seconds spent in each stage, for ``hotspot import -v`` and bench/ingest.py."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now
