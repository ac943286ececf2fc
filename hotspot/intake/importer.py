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
from hotspot.intake.export import neutralise_formulas
from hotspot.intake.features import (
    choose_crs,
    coordinate_columns,
    place_geometries,
    refusals,
    settle_geometries,
)
from hotspot.intake.formats import XLSX_HEADERS, read_report_source, read_report_table
from hotspot.intake.reports import map_columns, repeated_id_rows, validate_reports
from hotspot.store import frames, schema
from hotspot.store.bulk import BulkLoader

__all__ = [
    "ImportResult",
    "RejectedFile",
    "find_matches",
    "import_reports",
    "next_report_id",
    "read_report_table",
    "rejects_path",
]

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
    crs: str = "wgs84"
    footprints: int = 0


def rejects_path(path: Path) -> Path:
    """Where the rejected rows of ``path`` are written: ``FILE.rejects.csv`` beside it."""
    return path.with_name(path.name + ".rejects.csv")


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
    crs: str | None = None,
    fmt: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    overrides: Mapping[str, str] | None = None,
    layer: str | None = None,
) -> ImportResult:
    """Import a report file; all or nothing unless ``skip_invalid``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    path : pathlib.Path
    crs : str, optional
        Coordinate system of the file's coordinates (lng/lat, points, polygons); by
        default what the file declares (GeoJSON ``crs``, GeoPackage SRS), else WGS84.
        A file declaring WGS84 may be read as GCJ-02 or BD-09; other contradictions
        with the file are refused.
    fmt : str, optional
        csv, xlsx, geojson, open311 or gpkg; guessed from the name when omitted.
    skip_invalid : bool, default False
        Import the good rows of a file that has bad ones.
    dry_run : bool, default False
        Validate only; write nothing to the store.
    overrides : mapping, optional
        field -> header (``--map``).
    layer : str, optional
        The GeoPackage layer to read.

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
    if crs is not None:
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
            layer=layer,
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
    crs: str | None,
    fmt: str | None,
    skip_invalid: bool,
    dry_run: bool,
    overrides: Mapping[str, str] | None,
    layer: str | None,
) -> ImportResult:
    clock = _Stopwatch()
    source = read_report_source(path, fmt, layer=layer)
    crs = choose_crs(crs, source.declared_crs, name=path.name)
    if source.table.empty:
        raise UserError(f"{path.name}: no data rows under the header")
    placed = place_geometries(source, crs, columns=coordinate_columns(source.table, overrides))
    raw = placed.table
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
    first_row = source.first_row
    repeats = repeated_id_rows(ids, first_row=first_row)
    clock.lap("lookup")

    # Check the file a chunk at a time and hand each chunk's good rows to the loader,
    # which writes them in the background while the next chunk is checked. A bad row
    # anywhere (without --skip-invalid) stops the writing and rolls all of it back.
    # Relapses and duplicates are then found among all the good rows at once (a file
    # need not be in date order) while the loader rebuilds the indexes, and set on the
    # loaded rows in the same transaction. A footprint's geometry is its polygon, and
    # its lng/lat (matched for relapses and duplicates) its representative point.
    rejects, checked, already = [], [], 0
    loader = None if dry_run else BulkLoader(engine, schema.report, expected_rows=len(raw))
    with loader or nullcontext():
        for start in range(0, len(raw), _CHUNK):
            chunk = validate_reports(
                raw.iloc[start : start + _CHUNK],
                **context,
                first_row=first_row + start,
                repeats=repeats[start : start + _CHUNK],
            )
            rows = (first_row + start, first_row + min(start + _CHUNK, len(raw)))
            good, bad = settle_geometries(
                chunk.reports, chunk.rejects, placed, first_row=first_row, rows=rows
            )
            good, bad = _carry_exchange_columns(good, bad, raw, first_row=first_row, crs=crs)
            rejects.append(bad)
            checked.append(good.drop(columns="row"))
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
            unit = source.unit
            raise RejectedFile(
                f"{path.name}: {rejected_rows} of {len(raw)} {unit}s rejected, nothing imported "
                f"(first: {unit} {first['row']}, {first['field']}: {first['reason']}); "
                f"every rejected {unit} is in {out.name}; use --skip-invalid to import the good "
                f"{unit}s"
            )
        first_id = loader.first_id if loader is not None else next_report_id(engine)
        # The store's candidates are read before the loader starts rebuilding: on
        # PostgreSQL the rebuild locks readers out of the table until the commit. The
        # read overlaps the last chunk's write, and the matching the rebuild.
        new = _new_reports(checked, first_id=first_id)
        stored = _candidates(engine, new)
        if loader is not None:
            loader.start_indexing()
        relapse_of, duplicate_of = _match(new, stored)
        clock.lap("relapses")
        flagged = np.flatnonzero((relapse_of >= 0) | (duplicate_of >= 0))
        if loader is not None:
            loader.update(
                first_id + flagged,
                {"relapse_of": relapse_of[flagged], "duplicate_of": duplicate_of[flagged]},
            )
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
        crs=crs,
        footprints=sum(int(c["area_m2"].notna().sum()) for c in checked if "area_m2" in c),
    )


# Exchange columns an import keeps from our own exports (CSV/GeoJSON/GPKG names, XLSX
# headers): the original coordinates of a report imported from another system, and the
# area demolished. Only read from a WGS84 file: otherwise the file's coordinates are
# the original ones.
_EXCHANGE = ("orig_x", "orig_y", "orig_crs", "demolished_m2")


def _carry_exchange_columns(
    reports: pd.DataFrame, rejects: pd.DataFrame, raw: pd.DataFrame, *, first_row: int, crs: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    headers = {str(h).strip().casefold(): h for h in raw.columns}
    found = {
        name: headers.get(name) or headers.get(XLSX_HEADERS[name].casefold()) for name in _EXCHANGE
    }
    found = {name: header for name, header in found.items() if header is not None}
    if crs != "wgs84" or not found or reports.empty:
        return reports, rejects
    positions = reports["row"].to_numpy(dtype=np.int64) - first_row
    values = {name: raw[header].iloc[positions].str.strip() for name, header in found.items()}
    problems = []
    numbers = {}
    for name in ("orig_x", "orig_y", "demolished_m2"):
        if name in values:
            parsed = pd.to_numeric(values[name], errors="coerce").to_numpy(dtype=np.float64)
            bad = (values[name] != "").to_numpy() & ~np.isfinite(parsed)
            if name == "demolished_m2":
                bad |= parsed < 0
            problems.append(
                refusals(
                    positions[bad],
                    first_row,
                    name,
                    values[name][bad],
                    "not a number ≥ 0" if name == "demolished_m2" else "not a number",
                )
            )
            numbers[name] = parsed
    if {"orig_x", "orig_y", "orig_crs"} <= set(values):
        names = values["orig_crs"]
        known = {}
        for name in names[names != ""].unique().tolist():
            try:
                known[name] = normalize_crs(name)
            except ValueError:
                known[name] = None
        system = names.map(known).to_numpy(dtype=object)
        unknown = (names != "").to_numpy() & pd.isna(system)
        problems.append(
            refusals(
                positions[unknown],
                first_row,
                "orig_crs",
                names[unknown],
                "unknown coordinate system",
            )
        )
        usable = ~pd.isna(system) & np.isfinite(numbers["orig_x"]) & np.isfinite(numbers["orig_y"])
        if usable.any():
            reports = reports.copy()
            reports["orig_crs"] = reports["orig_crs"].astype(object)
            for name, column in (("orig_x", numbers["orig_x"]), ("orig_y", numbers["orig_y"])):
                reports[name] = np.where(usable, column, reports[name].to_numpy(dtype=np.float64))
            reports.loc[usable, "orig_crs"] = system[usable]
    if "demolished_m2" in numbers:
        reports = reports.assign(demolished_m2=numbers["demolished_m2"])
    problems = [p for p in problems if len(p)]
    if problems:
        bad_rows = pd.concat(problems)["row"].to_numpy()
        keep = ~np.isin(reports["row"].to_numpy(), bad_rows)
        reports = reports[keep]
        rejects = pd.concat([rejects, *problems], ignore_index=True)
        rejects = rejects.sort_values(["row", "field"], kind="stable").reset_index(drop=True)
    return reports, rejects


def next_report_id(engine: Engine) -> int:
    """The id the next report written to the store gets."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(schema.report.c.id))).scalar() or 0) + 1


def find_matches(
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
    new = _new_reports(checked, first_id=first_id)
    return _match(new, _candidates(engine, new))


# The columns a new report is matched on: the whole rows (WKB, texts) would cost a copy.
_MATCHED = ["category", "lng", "lat", "reported_at", "status", "resolved_at", "closed_at"]


def _new_reports(checked: list[pd.DataFrame], *, first_id: int) -> pd.DataFrame:
    """The matched columns of the good rows, with the ids the loader will give them."""
    if not any(len(chunk) for chunk in checked):
        return pd.DataFrame(columns=[*_MATCHED, "id"])
    new = pd.concat([chunk[_MATCHED] for chunk in checked], ignore_index=True)
    new["id"] = np.arange(first_id, first_id + len(new), dtype=np.int64)
    for name in ("reported_at", "resolved_at", "closed_at"):
        new[name] = new[name].astype("datetime64[ns]")
    return new


def _candidates(engine: Engine, new: pd.DataFrame) -> pd.DataFrame | None:
    """The store's reports that could be parents of ``new`` (None when ``new`` is empty)."""
    if new.empty:
        return None
    window = max(pd.Timedelta(days=RELAPSE_WINDOW_DAYS), pd.Timedelta(hours=DUPLICATE_WINDOW_HOURS))
    since = (new["reported_at"].min() - window).to_pydatetime()
    return frames.read_reports_since(engine, since, new["category"].unique().tolist())


def _match(new: pd.DataFrame, stored: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Relapses and duplicates of ``new`` among ``stored`` and ``new`` itself (pure CPU)."""
    relapse_of = np.full(len(new), -1, dtype=np.int64)
    duplicate_of = relapse_of.copy()
    if new.empty:
        return relapse_of, duplicate_of
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
        # users open this in Excel: a rejected value may well be a formula
        neutralise_formulas(rejects).to_csv(out, index=False, encoding="utf-8-sig")
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
