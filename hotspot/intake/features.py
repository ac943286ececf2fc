"""What the import readers share: the report source, its geometries and their CRS, refusals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import from_wgs84, normalize_crs, to_metric, to_wgs84
from hotspot import taxonomy
from hotspot.errors import UserError
from hotspot.intake.reports import FIELDS, FIRST_DATA_ROW, REJECT_COLUMNS

__all__ = [
    "FOOTPRINT_COLUMN",
    "Placed",
    "ReportSource",
    "as_strings",
    "choose_crs",
    "coordinate_columns",
    "declared_crs",
    "place_geometries",
    "read_json",
    "refusals",
    "settle_geometries",
]

#: Column of a report table holding a footprint polygon as WKT (CSV and XLSX exchange).
FOOTPRINT_COLUMN = "footprint_wkt"
#: Fields of a refusal meaning the whole entry is unusable (not a feature, not a request).
_WHOLE_ROW = ("feature", "request")
_POINT = 0
_POLYGONAL = (3, 6)  # Polygon, MultiPolygon
_TYPE_NAMES = {
    -1: "null",
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


@dataclass
class ReportSource:
    """A report file as read, before validation.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per report, every cell a string ("" when empty).
    geometry : numpy.ndarray or None
        Shapely geometries in the file's coordinates, aligned with ``table``; None for a
        file without geometries (CSV, XLSX without footprints).
    geometry_required : bool
        True when every row must have a geometry (GeoJSON, GeoPackage): a row without one
        is refused; False when a row without one is placed by its lng/lat columns.
    declared_crs : str or None
        The coordinate system the file declares (normalised), if any.
    rejects : pandas.DataFrame
        Rows refused while reading (row, field, value, reason).
    first_row : int
        The number of the first row: 2 in a spreadsheet (the header is row 1), 1 for the
        features of a GeoJSON or GeoPackage file and the requests of an Open311 file.
    unit : str
        What a row is called in messages: row, feature or request.
    """

    table: pd.DataFrame
    geometry: np.ndarray | None = None
    geometry_required: bool = False
    declared_crs: str | None = None
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    first_row: int = FIRST_DATA_ROW
    unit: str = "row"


@dataclass
class Placed:
    """A source's table with lng/lat set from its geometries, and its footprints in WGS84.

    Attributes
    ----------
    table : pandas.DataFrame
        The source table; ``lng``/``lat`` hold each geometry's point (a polygon's
        representative point) in the file's coordinates.
    footprint : numpy.ndarray of bool
        Rows whose geometry is a polygon.
    wkb : numpy.ndarray of object
        The polygons in WGS84 as WKB (None elsewhere).
    area_m2 : numpy.ndarray of float
        Their area in square metres (NaN elsewhere).
    lng, lat : numpy.ndarray of float
        Their representative point in WGS84 (NaN elsewhere).
    rejects : pandas.DataFrame
        Rows refused for their geometry, with those refused while reading.
    """

    table: pd.DataFrame
    footprint: np.ndarray
    wkb: np.ndarray
    area_m2: np.ndarray
    lng: np.ndarray
    lat: np.ndarray
    rejects: pd.DataFrame


def refusals(positions: np.ndarray, first_row: int, field: str, values, reasons) -> pd.DataFrame:
    """Reject lines (row, field, value, reason) for rows at ``positions`` of a table.

    Parameters
    ----------
    positions : numpy.ndarray of int
        0-based positions of the refused rows.
    first_row : int
        The number of the row at position 0.
    field : str
    values, reasons : scalar or sequence
        What to quote and why, one each or one for all.

    Returns
    -------
    pandas.DataFrame
    """
    positions = np.asarray(positions, dtype=np.int64)
    return pd.DataFrame(
        {"row": positions + first_row, "field": field, "value": values, "reason": reasons},
        columns=REJECT_COLUMNS,
    )


def as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as text, "" for a missing value, as the CSV reader gives them.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any column types (numbers, datetimes, objects from JSON).

    Returns
    -------
    pandas.DataFrame
        Headers stripped, string columns.
    """
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for name in frame.columns:
        values = frame[name].reset_index(drop=True)
        if pd.api.types.is_float_dtype(values):
            # a float column of whole numbers (ids, phones with a gap) reads as ints
            numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
            whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (abs(numbers) < 2**53)
            text = pd.Series(numbers.astype(str), dtype="string[pyarrow]")
            if whole.any():
                text[whole] = numbers[whole].astype(np.int64).astype(str)
            values = text.mask(~np.isfinite(numbers))
        out[str(name).strip()] = values.astype("string[pyarrow]").fillna("")
    return out


def read_json(path: Path) -> object:
    """Parse a JSON file (UTF-8, with or without BOM).

    Raises
    ------
    UserError
        Not JSON, naming the line and column of the first error.
    """
    data = path.read_bytes()
    if not data.strip():
        raise UserError(f"{path.name}: the file is empty")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UserError(f"{path.name}: not UTF-8 text, as JSON must be") from None
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise UserError(f"{path.name}: not valid JSON (nested too deeply)") from None


def coordinate_columns(
    table: pd.DataFrame, overrides: dict[str, str] | None = None
) -> tuple[str, str]:
    """The headers a table's lng and lat are read from (``lng``/``lat`` when it has none).

    Parameters
    ----------
    table : pandas.DataFrame
    overrides : dict, optional
        field -> header (``--map``).

    Returns
    -------
    tuple of str
    """
    headers = {str(h).strip().casefold(): h for h in table.columns}
    found = []
    for name in ("lng", "lat"):
        names = [a.casefold() for a in FIELDS[name] if a.casefold() in headers]
        header = (overrides or {}).get(name) or (headers[names[0]] if names else name)
        found.append(header)
    return found[0], found[1]


def declared_crs(value: object, *, name: str) -> str | None:
    """The normalised name of a coordinate system declared by a file.

    Parameters
    ----------
    value : object
        An EPSG code, a CRS name or URN (``urn:ogc:def:crs:EPSG::4548``, ``OGC:CRS84``),
        a ``pyproj.CRS``, or None.
    name : str
        The file name, for the error message.

    Returns
    -------
    str or None
        ``wgs84`` or ``EPSG:n`` (see :func:`geo.crs.normalize_crs`); None when nothing is
        declared.

    Raises
    ------
    UserError
        The declaration names no system we can convert.
    """
    if value is None or value == "":
        return None
    try:
        system = value if isinstance(value, CRS) else CRS.from_user_input(value)
        if system.equals(CRS.from_user_input("OGC:CRS84"), ignore_axis_order=True):
            return "wgs84"
        code = system.to_epsg()
        if code is None:
            raise ValueError("no EPSG code")
        return normalize_crs(f"EPSG:{code}")
    except Exception as exc:  # pyproj raises its own CRSError
        raise UserError(f"{name}: declares a coordinate system we cannot use ({exc})") from None


def choose_crs(given: str | None, declared: str | None, *, name: str) -> str:
    """The coordinate system of a file's coordinates.

    ``--crs`` when given, else the file's declaration, else WGS84. A file declaring
    WGS84 may be overridden to GCJ-02 or BD-09 (which no file can declare, so such
    coordinates are often labelled WGS84); any other disagreement is refused.

    Parameters
    ----------
    given : str or None
        The ``--crs`` option.
    declared : str or None
        What the file declares (normalised).
    name : str
        The file name, for the error message.

    Returns
    -------
    str
        A normalised name.

    Raises
    ------
    UserError
        An unknown ``--crs``, or one that contradicts the file.
    """
    if given is None:
        return declared or "wgs84"
    try:
        given = normalize_crs(given)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if declared is None or declared == given:
        return given
    if declared == "wgs84" and given in ("gcj02", "bd09"):
        return given
    raise UserError(
        f"{name}: the file declares its coordinates in {declared} but --crs says {given}; "
        "leave out --crs to use the file's"
    )


def _geometry_reasons(types: np.ndarray, empty: np.ndarray, required: bool) -> np.ndarray:
    reasons = np.full(types.size, None, dtype=object)
    missing = types < 0
    if required:
        reasons[missing] = "no geometry (null)"
    other = ~missing & (types != _POINT) & ~np.isin(types, _POLYGONAL)
    for type_id in np.unique(types[other]).tolist():
        reasons[types == type_id] = (
            f"a {_TYPE_NAMES.get(type_id, type_id)} is not accepted; a report is a Point, "
            "or a Polygon/MultiPolygon for a footprint category"
        )
    reasons[~missing & empty & ~other] = "empty geometry"
    return reasons


def place_geometries(
    source: ReportSource, crs: str, *, columns: tuple[str, str] = ("lng", "lat")
) -> Placed:
    """Write each geometry's point into the lng/lat columns; footprints to WGS84 with area.

    Parameters
    ----------
    source : ReportSource
    crs : str
        The file's coordinate system (normalised): points and polygons are in it.
    columns : tuple of str, default ("lng", "lat")
        The headers the lng and lat fields are read from (added when absent).

    Returns
    -------
    Placed
        A polygon's lng/lat is its representative point (inside it), found in WGS84 and
        written back in ``crs``; a point keeps its coordinates; a row with another kind
        of geometry, an invalid polygon or (where required) none is refused. Rows
        without a geometry keep the lng/lat they have.
    """
    table = source.table
    n = len(table)
    footprint = np.zeros(n, dtype=bool)
    wkb = np.full(n, None, dtype=object)
    area = np.full(n, np.nan)
    lng = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if source.geometry is None:
        return Placed(table, footprint, wkb, area, lng, lat, source.rejects)
    table = table.copy(deep=False)  # columns are replaced, not changed in place

    geometry = np.asarray(source.geometry, dtype=object)
    types = shapely.get_type_id(geometry)
    empty = shapely.is_empty(geometry)
    reasons = _geometry_reasons(types, empty, source.geometry_required)
    # a row refused while reading is not refused again for its (missing) geometry
    rows = np.arange(source.first_row, source.first_row + n)
    known = np.isin(rows, source.rejects["row"].to_numpy(dtype=np.int64))
    reasons[known] = None
    polygon = np.isin(types, _POLYGONAL) & ~empty
    invalid = polygon & ~known & ~shapely.is_valid(geometry)
    if invalid.any():
        why = shapely.is_valid_reason(geometry[invalid])
        reasons[invalid] = [f"invalid polygon ({w})" for w in why]
        polygon &= ~invalid
    refused = reasons != None  # noqa: E711
    point = (types == _POINT) & ~empty
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    x[point], y[point] = shapely.get_x(geometry[point]), shapely.get_y(geometry[point])
    if polygon.any():
        in_wgs84 = shapely.transform(
            geometry[polygon], lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], crs))
        )
        inside = shapely.point_on_surface(in_wgs84)
        lng[polygon], lat[polygon] = shapely.get_x(inside), shapely.get_y(inside)
        if crs == "wgs84":
            x[polygon], y[polygon] = lng[polygon], lat[polygon]
        else:
            x[polygon], y[polygon] = from_wgs84(lng[polygon], lat[polygon], crs)
        wkb[polygon] = shapely.to_wkb(in_wgs84)
        area[polygon] = shapely.area(to_metric(in_wgs84))
        footprint = polygon
    placed = point | polygon
    for column, values in zip(columns, (x, y), strict=True):
        text = (
            table[column].astype("string[pyarrow]").fillna("")
            if column in table
            else pd.Series("", index=table.index, dtype="string[pyarrow]")
        )
        text = text.to_numpy(dtype=object)
        text[placed] = values[placed].astype(str)
        text[refused | known] = ""
        table[column] = pd.array(text, dtype="string[pyarrow]")
    rejects = source.rejects
    if refused.any():
        where = np.flatnonzero(refused)
        values = [_TYPE_NAMES.get(t, str(t)) for t in types[where].tolist()]
        found = refusals(where, source.first_row, "geometry", values, reasons[where])
        rejects = pd.concat([r for r in (rejects, found) if len(r)], ignore_index=True)
    return Placed(table, footprint, wkb, area, lng, lat, rejects)


def settle_geometries(
    reports: pd.DataFrame,
    rejects: pd.DataFrame,
    placed: Placed,
    *,
    first_row: int,
    rows: tuple[int, int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give validated rows their footprints and refuse the geometry problems among them.

    Parameters
    ----------
    reports : pandas.DataFrame
        Good rows from :func:`hotspot.intake.reports.validate_reports` (with ``row``).
    rejects : pandas.DataFrame
        Its rejects.
    placed : Placed
        The whole file's geometries.
    first_row : int
        The number of the file's first row.
    rows : tuple of int
        The first and one-past-last row number of this chunk.

    Returns
    -------
    tuple of pandas.DataFrame
        The reports, footprints set (``geom``, ``area_m2``, exact ``lng``/``lat``) and
        polygons of non-footprint categories removed; the rejects with the geometry
        refusals of the chunk (which replace its lng/lat "missing").
    """
    geometry_rejects = placed.rejects
    in_chunk = geometry_rejects["row"].between(rows[0], rows[1] - 1).to_numpy()
    refused = geometry_rejects[in_chunk]
    if len(refused):
        # the refusal stands for the row's missing coordinates; an entry that is no
        # feature or request at all has no fields to complain about either
        whole = refused.loc[refused["field"].isin(_WHOLE_ROW), "row"]
        covered = rejects["row"].isin(refused["row"]) & rejects["field"].isin(["lng", "lat"])
        covered |= rejects["row"].isin(whole)
        rejects = rejects[~covered.to_numpy()]
    positions = reports["row"].to_numpy(dtype=np.int64) - first_row
    shape = placed.footprint[positions]
    parts = [rejects, refused]
    if shape.any():
        catalogue = taxonomy.load_categories()
        categories = reports["category"].to_numpy(dtype=object)
        allowed = catalogue["footprint"].reindex(categories).fillna(False).to_numpy(dtype=bool)
        wrong = shape & ~allowed
        if wrong.any():
            names = catalogue["name_zh"].reindex(categories[wrong]).to_numpy()
            kinds = "、".join(catalogue.loc[catalogue["footprint"], "name_zh"])
            parts.append(
                refusals(
                    positions[wrong],
                    first_row,
                    "geometry",
                    "Polygon",
                    [
                        f"a polygon is only accepted for a footprint category ({kinds}); "
                        f"{name} is reported as a point"
                        for name in names
                    ],
                )
            )
            keep = ~wrong
            reports, positions, shape = reports[keep], positions[keep], shape[keep]
        if shape.any():
            reports = reports.copy()
            at = positions[shape]
            mask = np.flatnonzero(shape)
            reports["geom"] = reports["geom"].to_numpy(dtype=object)
            reports.iloc[mask, reports.columns.get_loc("geom")] = placed.wkb[at]
            for column, values in (("lng", placed.lng), ("lat", placed.lat)):
                reports.iloc[mask, reports.columns.get_loc(column)] = values[at]
            area = np.full(len(reports), np.nan)
            area[mask] = placed.area_m2[at]
            reports["area_m2"] = area
    parts = [p for p in parts if len(p)]
    if parts:
        rejects = pd.concat(parts, ignore_index=True)
        rejects = rejects.sort_values(["row", "field"], kind="stable").reset_index(drop=True)
    return reports, rejects
