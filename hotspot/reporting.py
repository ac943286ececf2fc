"""Reports entered one at a time (问题上报): checked like an imported row, stored with an event."""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, insert

from geo.cells import GRID_RES, cell_parents
from geo.crs import normalize_crs, to_wgs84
from hotspot.errors import UserError
from hotspot.filters import EVERYTHING, Scope
from hotspot.intake.importer import ImportResult, find_matches, import_reports, next_report_id
from hotspot.intake.reports import Validated, attribute_reports, validate_reports
from hotspot.photos import attach_photos, prepare_photos
from hotspot.store import frames, schema

__all__ = [
    "INPUT_CRS",
    "CreatedReport",
    "Placement",
    "ReportDraft",
    "ReportRejected",
    "check_report",
    "create_report",
    "import_in_child",
    "in_scope",
    "place_point",
]

#: Coordinate systems offered for typed coordinates (see :func:`geo.crs.normalize_crs`).
INPUT_CRS: tuple[str, ...] = ("wgs84", "gcj02", "bd09", "cgcs2000")
_ACTOR_LENGTH = schema.report_event.c.actor.type.length
_PROBLEM_COLUMNS = ["field", "value", "reason"]


@dataclass(frozen=True)
class ReportDraft:
    """A report as a person enters it, before it is checked.

    Attributes
    ----------
    category : str
        A category code (or a name or alias :func:`hotspot.taxonomy.resolve_categories`
        knows).
    x, y : float or None
        Longitude and latitude (or easting and northing) in ``crs``.
    crs : str, default "wgs84"
        ``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000`` or ``EPSG:n``.
    reported_at : datetime.datetime, optional
        Local time the problem was found; now when omitted.
    description, address, reporter_name, reporter_phone : str
        Free text; empty when not given.
    source : str
        A source code or name (``patrol``, ``resident``, …); none when empty.
    """

    category: str
    x: float | None
    y: float | None
    crs: str = "wgs84"
    reported_at: dt.datetime | None = None
    description: str = ""
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    source: str = ""

    def as_row(self, now: dt.datetime) -> dict[str, str]:
        """The draft as one row of text, the way an imported file gives it."""
        reported_at = self.reported_at or now
        return {
            "category": (self.category or "").strip(),
            "lng": _number_text(self.x),
            "lat": _number_text(self.y),
            "reported_at": reported_at.isoformat(sep=" ", timespec="seconds"),
            "description": (self.description or "").strip(),
            "address": (self.address or "").strip(),
            "reporter_name": (self.reporter_name or "").strip(),
            "reporter_phone": (self.reporter_phone or "").strip(),
            "source": (self.source or "").strip(),
        }


class ReportRejected(UserError):
    """A report that fails the import rules; nothing was stored.

    Attributes
    ----------
    problems : pandas.DataFrame
        ``field``, ``value``, ``reason``: one line per problem.
    """

    def __init__(self, problems: pd.DataFrame) -> None:
        self.problems = problems.reset_index(drop=True)
        lines = [
            f"{p.field}: {p.reason}" + (f" ({p.value})" if str(p.value or "") else "")
            for p in self.problems.itertuples()
        ]
        super().__init__("; ".join(lines))


@dataclass(frozen=True)
class CreatedReport:
    """What :func:`create_report` stored.

    Attributes
    ----------
    id : int
    community : str or None
        The community code it was attributed to.
    cell : int
        Its H3 cell (resolution 12).
    relapse_of, duplicate_of : int or None
        The earlier report it relapses or duplicates (the import's rules).
    photos : int
        Photos attached.
    """

    id: int
    community: str | None
    cell: int
    relapse_of: int | None
    duplicate_of: int | None
    photos: int


@dataclass(frozen=True)
class Placement:
    """Where typed or clicked coordinates fall.

    Attributes
    ----------
    lng, lat : float
        WGS84; NaN when the numbers cannot be converted.
    problems : pandas.DataFrame
        ``field``, ``value``, ``reason`` for the coordinates (outside the service area,
        swapped, not numbers, …); empty when they can be used.
    community : str or None
        Code of the community the point belongs to (none outside them all).
    community_name : str or None
    cell : int or None
        H3 cell (resolution 12) of a usable point.
    """

    lng: float
    lat: float
    problems: pd.DataFrame
    community: str | None = None
    community_name: str | None = None
    cell: int | None = None

    @property
    def ok(self) -> bool:
        """Whether a report may be placed here."""
        return self.problems.empty


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value).strip()
    return repr(number) if math.isfinite(number) else ""


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _crs(crs: str) -> str:
    try:
        return normalize_crs(crs)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _places(engine: Engine) -> dict:
    """The store's communities, grid, zones and service area, as the importer checks with.

    The whole town, whoever reports: a point is attributed the same way for everyone
    (and then refused when it lies outside the reporter's scope); nothing of it is shown.
    """
    communities = frames.read_communities(engine)
    area = shapely.union_all(communities.geometry.to_numpy()) if len(communities) else None
    return {
        "service_area": area,
        "grid": frames.read_grid_cells(engine),
        "communities": communities,
        "zones": frames.read_zones(engine),
    }


def _validate(row: dict[str, str], *, crs: str, now: dt.datetime, places: dict) -> Validated:
    raw = pd.DataFrame({field: [value] for field, value in row.items()}, dtype=object)
    return validate_reports(
        raw, crs=crs, mapping={field: field for field in row}, now=now, **places
    )


def check_report(
    engine: Engine, draft: ReportDraft, *, now: dt.datetime | None = None
) -> Validated:
    """Check a draft with the import's rules, attributing it as an import would.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    draft : ReportDraft
    now : datetime.datetime, optional
        Local time after which a date is in the future.

    Returns
    -------
    Validated
        ``reports`` holds the one report row (with community, zone and cell) when
        ``rejects`` is empty.

    Raises
    ------
    UserError
        An unknown coordinate system.
    """
    now = now or dt.datetime.now()
    return _check(draft, now=now, places=_places(engine))


def _check(draft: ReportDraft, *, now: dt.datetime, places: dict) -> Validated:
    return _validate(draft.as_row(now), crs=_crs(draft.crs), now=now, places=places)


def in_scope(scope: Scope, community_ids: pd.Series, cells: np.ndarray) -> np.ndarray:
    """Whether reports attributed to ``community_ids`` and ``cells`` lie in ``scope``.

    The same rule as :func:`hotspot.store.frames.scope_conditions` applies when the
    reports are read back, so a report placed in scope is one its author can see.

    Parameters
    ----------
    scope : Scope
    community_ids : pandas.Series
        Each report's community id (missing outside every community).
    cells : numpy.ndarray of int64
        Each report's H3 cell (resolution 12).

    Returns
    -------
    numpy.ndarray of bool
    """
    inside = np.ones(len(community_ids), dtype=bool)
    if scope.community_id is not None:
        ids = pd.array(community_ids, dtype="Int64")
        inside &= (ids == scope.community_id).fillna(False).to_numpy(dtype=bool)
    if scope.cells is not None:
        grid = cell_parents(np.asarray(cells, dtype=np.int64), GRID_RES)
        inside &= np.isin(grid, np.asarray(scope.cells, dtype=np.int64))
    return inside


def _outside_scope(
    scope: Scope, communities: pd.DataFrame, x: float | None, y: float | None
) -> pd.DataFrame:
    """The problem of a point outside ``scope``, naming only the scope's own community."""
    names = communities.set_index("id")["name"]
    own = str(names.get(scope.community_id, "")) if scope.community_id is not None else ""
    where = "your grid cells" if scope.cells is not None else "your community"
    where += f" ({own})" if own else ""
    return pd.DataFrame(
        {
            "field": ["lng"],
            "value": [f"{_number_text(x)}, {_number_text(y)}"],
            "reason": [f"outside {where}: you may report only there"],
        }
    )


def place_point(
    engine: Engine,
    x: float | None,
    y: float | None,
    crs: str = "wgs84",
    *,
    scope: Scope = EVERYTHING,
) -> Placement:
    """Check coordinates as an import checks lng/lat and find the point's community.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    x, y : float or None
        Longitude and latitude (or easting and northing) in ``crs``.
    crs : str, default "wgs84"
    scope : Scope, optional
        Whose report: a point outside the scope is a problem (field ``lng``) and its
        community is not named.

    Returns
    -------
    Placement

    Raises
    ------
    UserError
        An unknown coordinate system.
    """
    crs = _crs(crs)
    places = _places(engine)
    # The other required fields present, so that the coordinates are checked in full.
    row = {"lng": _number_text(x), "lat": _number_text(y), "category": "-", "reported_at": "-"}
    checked = _validate(row, crs=crs, now=dt.datetime.now(), places=places)
    rejects = checked.rejects
    problems = rejects.loc[rejects["field"].isin(["lng", "lat"]), _PROBLEM_COLUMNS]
    problems = problems.reset_index(drop=True)
    lng = lat = np.nan
    numbers = _float(x), _float(y)
    if all(math.isfinite(v) for v in numbers):
        # where to draw the point, even when it cannot be used
        with np.errstate(invalid="ignore"):
            converted = to_wgs84([numbers[0]], [numbers[1]], crs)
        lng, lat = float(converted[0][0]), float(converted[1][0])
    if not problems.empty or not (math.isfinite(lng) and math.isfinite(lat)):
        return Placement(lng=lng, lat=lat, problems=problems)
    place = attribute_reports(np.array([lng]), np.array([lat]), **_attribution(places))
    if not in_scope(scope, place["community_id"], place["cell"].to_numpy())[0]:
        outside = _outside_scope(scope, places["communities"], x, y)
        return Placement(lng=lng, lat=lat, problems=outside)
    community_id = place["community_id"].iloc[0]
    code = name = None
    if not pd.isna(community_id):
        communities = places["communities"].set_index("id")
        code = str(communities.at[int(community_id), "code"])
        name = str(communities.at[int(community_id), "name"])
    return Placement(
        lng=lng,
        lat=lat,
        problems=problems,
        community=code,
        community_name=name,
        cell=int(place["cell"].iloc[0]),
    )


def _attribution(places: dict) -> dict:
    return {key: places[key] for key in ("grid", "communities", "zones")}


def _python(value):
    """A frame cell as a plain Python value for the database driver (None when missing)."""
    if isinstance(value, bytes | str):
        return value
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def create_report(
    engine: Engine,
    draft: ReportDraft,
    *,
    actor: str,
    photos: Iterable[tuple[str, bytes]] = (),
    note: str | None = None,
    now: dt.datetime | None = None,
    photo_dir: Path | None = None,
    scope: Scope = EVERYTHING,
) -> CreatedReport:
    """Check and store one report, its first event (``new``) and its photos, all or nothing.

    The report is validated with the import's rules (coordinates, service area,
    category, date, text lengths), attributed to community, storefront zone and H3
    cell, and flagged as a relapse or duplicate by the import's rules.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    draft : ReportDraft
    actor : str
        Who entered it, for the event row (at most 50 characters).
    photos : iterable of (name, bytes)
        Uploaded photos (see :func:`hotspot.photos.prepare_photos`).
    note : str, optional
        The event's note.
    now : datetime.datetime, optional
        Local time of entry (the event's time; dates after it are refused).
    photo_dir : pathlib.Path, optional
        Where photos are stored; :func:`hotspot.photos.photo_dir` when omitted.
    scope : Scope, optional
        Whose report: a report outside the author's scope is refused.

    Returns
    -------
    CreatedReport

    Raises
    ------
    ReportRejected
        The draft breaks a rule, every problem listed; or it lies outside ``scope``.
    hotspot.photos.PhotoRejected
        A photo is refused, or there are too many.
    UserError
        No actor, or an unknown coordinate system.
    """
    now = (now or dt.datetime.now()).replace(microsecond=0)
    actor = (actor or "").strip()
    if not actor:
        raise UserError("a report needs the name of who entered it")
    prepared = prepare_photos(photos)
    places = _places(engine)
    checked = _check(draft, now=now, places=places)
    if len(checked.rejects):
        raise ReportRejected(checked.rejects[_PROBLEM_COLUMNS])
    frame = checked.reports.drop(columns="row").reset_index(drop=True)
    if not in_scope(scope, frame["community_id"], frame["cell"].to_numpy())[0]:
        raise ReportRejected(_outside_scope(scope, places["communities"], draft.x, draft.y))
    # Matched as the next id: a report of the same second counts as later than the stored.
    relapse_of, duplicate_of = find_matches(engine, [frame], first_id=next_report_id(engine))
    row = {name: _python(frame.at[0, name]) for name in frame.columns}
    row["relapse_of"] = int(relapse_of[0]) if relapse_of[0] >= 0 else None
    row["duplicate_of"] = int(duplicate_of[0]) if duplicate_of[0] >= 0 else None
    with engine.begin() as conn:
        report_id = int(conn.execute(insert(schema.report).values(row)).inserted_primary_key[0])
        conn.execute(
            insert(schema.report_event).values(
                report_id=report_id,
                at=now,
                actor=actor[:_ACTOR_LENGTH],
                from_status=None,
                to_status=row["status"],
                note=(note or "").strip() or None,
            )
        )
        attached = attach_photos(conn, report_id, prepared, directory=photo_dir, now=now)
    codes = places["communities"].set_index("id")["code"]
    community_id = row["community_id"]
    return CreatedReport(
        id=report_id,
        community=None if community_id is None else str(codes.get(community_id)),
        cell=int(row["cell"]),
        relapse_of=row["relapse_of"],
        duplicate_of=row["duplicate_of"],
        photos=attached,
    )


def _import_file(url: str, path: str, crs: str, skip_invalid: bool) -> ImportResult:
    from hotspot.store.engine import open_store

    engine = open_store(url)
    try:
        return import_reports(engine, Path(path), crs=crs, skip_invalid=skip_invalid)
    finally:
        engine.dispose()


def import_in_child(url: str, path: Path, *, crs: str, skip_invalid: bool) -> ImportResult:
    """Import a report file into the store at ``url`` in a child process.

    A bulk load on SQLite writes through ADBC, which brings its own copy of SQLite:
    when it closes, that copy cannot see the dashboard's open connections (POSIX locks
    are per process) and deletes the WAL they are using. In a process of its own it
    can see them, so the long-lived server never hosts it.

    Parameters
    ----------
    url : str
    path : pathlib.Path
    crs : str
    skip_invalid : bool

    Returns
    -------
    ImportResult

    Raises
    ------
    UserError
        As :func:`hotspot.intake.importer.import_reports`.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_import_file, url, str(path), crs, skip_invalid).result()
