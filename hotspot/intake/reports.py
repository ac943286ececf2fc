"""Validating imported report rows: one pass over whole columns, every rejection named."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.cells import cells_from_points
from geo.crs import looks_swapped, normalize_crs, to_wgs84
from geo.wkb import points_to_wkb
from geo.zones import communities_of_points, distance_outside, zones_of_points
from hotspot import taxonomy
from hotspot.errors import UserError

__all__ = [
    "FIELDS",
    "FIRST_DATA_ROW",
    "REJECT_COLUMNS",
    "Validated",
    "map_columns",
    "repeated_id_rows",
    "validate_reports",
]

#: Report fields an import understands, with the header names each is found under
#: (first the canonical name, then names seen in 12345 work-order exports).
FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "external_id", "工单编号", "工单号", "编号"),
    "category": ("category", "分类", "小类", "问题类型", "问题分类", "category_name"),
    "lng": ("lng", "lon", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "reported_at": ("reported_at", "受理时间", "上报时间", "发现时间", "时间"),
    "description": ("description", "主要内容", "问题描述", "描述", "内容"),
    "source": ("source", "来源", "问题来源"),
    "status": ("status", "工单状态", "状态", "处理状态"),
    "address": ("address", "地址", "问题地址", "事发地址"),
    "reporter_name": ("reporter_name", "来电人", "上报人", "反映人"),
    "reporter_phone": ("reporter_phone", "联系电话", "来电号码", "电话"),
    "due_at": ("due_at", "限期", "整改期限"),
    "resolved_at": ("resolved_at", "整改时间", "办结时间"),
    "closed_at": ("closed_at", "结案时间"),
}
REQUIRED = ("category", "lng", "lat", "reported_at")
REJECT_COLUMNS = ["row", "field", "value", "reason"]
_TEXT_LIMITS = {"description": 4000, "address": 200, "reporter_name": 50, "reporter_phone": 30}
#: Points this close to the service area count as inside (coordinates rounded to 1e-5°).
_AREA_TOLERANCE_M = 1.5
#: Rows are numbered as a spreadsheet shows them: the header is row 1.
FIRST_DATA_ROW = 2
# Systems where a swapped lng/lat can be told from the numbers alone.
_GEOGRAPHIC = (
    "wgs84",
    "gcj02",
    "bd09",
    "EPSG:4490",
)  # rows are numbered as a spreadsheet shows them: the header is row 1


@dataclass
class Validated:
    """The outcome of validating a file.

    Attributes
    ----------
    reports : pandas.DataFrame
        Good rows as report-table columns (plus ``row``; ``geom`` as WKB), attributed to
        community, storefront zone and H3 cell.
    rejects : pandas.DataFrame
        One line per problem: row, field, value, reason.
    already_imported : int
        Rows whose id is already in the store (skipped, so re-imports add nothing).
    total : int
        Data rows in the file.
    """

    reports: pd.DataFrame
    rejects: pd.DataFrame
    already_imported: int
    total: int

    @property
    def rejected_rows(self) -> int:
        """Number of distinct rows with at least one problem."""
        return int(self.rejects["row"].nunique())


def map_columns(raw: pd.DataFrame, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Match file headers to report fields.

    Parameters
    ----------
    raw : pandas.DataFrame
        The file as read.
    overrides : mapping, optional
        field -> header, from ``--map field=column``.

    Returns
    -------
    dict
        field -> header for every field found.

    Raises
    ------
    UserError
        An override names an unknown field or a missing header, or a required field is absent.
    """
    headers = {str(h).strip().casefold(): h for h in raw.columns}
    mapping: dict[str, str] = {}
    for field, names in FIELDS.items():
        for name in names:
            if name.casefold() in headers:
                mapping[field] = headers[name.casefold()]
                break
    for field, header in (overrides or {}).items():
        if field not in FIELDS:
            raise UserError(f"--map {field}=…: unknown field; fields are {', '.join(FIELDS)}")
        if header not in raw.columns:
            raise UserError(f"--map {field}={header}: the file has no column {header!r}")
        mapping[field] = header
    missing = [f for f in REQUIRED if f not in mapping]
    if missing:
        raise UserError(
            f"missing column(s) {', '.join(missing)}; "
            f"the header has {', '.join(map(str, raw.columns))}"
        )
    return mapping


class _Rejections:
    """Collects (row, field, value, reason) lines for whole columns at once."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        self.bad = np.zeros(rows.size, dtype=bool)
        self._parts: list[pd.DataFrame] = []
        self._bad_by_field: dict[str, np.ndarray] = {}

    def add(self, mask, field: str, values, reason) -> None:
        """Reject the rows in ``mask`` for ``field``; a field keeps its first reason only.

        ``values`` is a column (or a scalar) to quote; ``reason`` a string, or a function
        of the rejected positions returning one reason each, so that reasons are only
        formatted for the rows that need them.
        """
        seen = self._bad_by_field.setdefault(field, np.zeros(self.rows.size, dtype=bool))
        mask = np.asarray(mask, dtype=bool) & ~seen
        if not mask.any():
            return
        where = np.flatnonzero(mask)
        if isinstance(values, pd.Series):
            quoted = values.iloc[where].to_numpy(dtype=object)
        elif isinstance(values, np.ndarray):
            quoted = values[where]
        else:
            quoted = values
        reasons = reason(where) if callable(reason) else reason
        self._parts.append(
            pd.DataFrame(
                {"row": self.rows[where], "field": field, "value": quoted, "reason": reasons}
            )
        )
        seen |= mask
        self.bad |= mask

    def frame(self) -> pd.DataFrame:
        """All rejections, by row then field."""
        if not self._parts:
            return pd.DataFrame(columns=REJECT_COLUMNS)
        out = pd.concat(self._parts, ignore_index=True)
        return out.sort_values(["row", "field"], kind="stable").reset_index(drop=True)


def _columns(raw: pd.DataFrame, mapping: Mapping[str, str]) -> dict[str, pd.Series]:
    """Every field as a stripped string column; one shared all-empty column for absent ones."""
    absent = pd.Series(pd.array([""], dtype="string[pyarrow]")).repeat(len(raw))
    absent.index = raw.index
    return {
        field: raw[mapping[field]].astype("string[pyarrow]").fillna("").str.strip()
        if field in mapping
        else absent
        for field in FIELDS
    }


def _parse_datetimes(values: pd.Series) -> pd.Series:
    text = values.mask(values == "")
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]")
    retry = parsed.isna() & text.notna()
    if retry.any():
        # Dates such as 2026/11/20 8:05 or 20261120: parse the leftovers one by one.
        again = pd.to_datetime(text[retry].astype(object), errors="coerce", format="mixed")
        parsed[retry] = again.astype("datetime64[ns]")
    return parsed


def _coded(
    values: pd.Series,
    resolver,
    field: str,
    rejects: _Rejections,
    *,
    default: str | None,
    suggest=None,
) -> np.ndarray:
    # Resolve each distinct value once: a column of a million rows holds a few dozen.
    positions, uniques = pd.factorize(values)
    distinct = np.asarray(uniques, dtype=object)
    given = distinct != ""
    resolved = np.full(distinct.size, default, dtype=object)
    if given.any():
        resolved[given] = resolver(distinct[given])
    codes = resolved[positions]
    unknown = (given & pd.isna(resolved))[positions]

    def reasons(where: np.ndarray) -> list[str]:
        hints = [suggest(values.iloc[i]) if suggest else None for i in where]
        return [f"unknown {field}" + (f"; did you mean {h}?" if h else "") for h in hints]

    rejects.add(unknown, field, values, reasons)
    return codes


def _check_coordinates(
    columns: dict[str, pd.Series],
    rejects: _Rejections,
    *,
    crs: str,
    service_area: shapely.Geometry | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse, convert and place lng/lat; returns x, y (as given) and WGS84 lng, lat."""
    n = len(columns["lng"])
    x = pd.to_numeric(columns["lng"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    y = pd.to_numeric(columns["lat"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    for field, parsed in (("lng", x), ("lat", y)):
        present = (columns[field] != "").to_numpy()
        rejects.add(present & ~np.isfinite(parsed), field, columns[field], "not a number")
    numeric = np.isfinite(x) & np.isfinite(y)

    def swap_reasons(where: np.ndarray) -> list[str]:
        return [f"lng and lat look swapped (lng {x[i]}, lat {y[i]})" for i in where]

    if crs in _GEOGRAPHIC:
        swapped = numeric & looks_swapped(x, y)
        rejects.add(
            swapped,
            "lng",
            columns["lng"],
            swap_reasons,
        )
        rejects.add(
            numeric & ~swapped & (np.abs(x) > 180), "lng", columns["lng"], "outside -180..180"
        )
        rejects.add(numeric & ~swapped & (np.abs(y) > 90), "lat", columns["lat"], "outside -90..90")
    usable = numeric & ~rejects.bad
    lng = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if usable.any():
        lng[usable], lat[usable] = to_wgs84(x[usable], y[usable], crs)
    converted = usable & np.isfinite(lng) & np.isfinite(lat)
    rejects.add(usable & ~converted, "lng", columns["lng"], f"cannot convert from {crs}")
    if service_area is not None and converted.any():
        distance = np.zeros(n)
        distance[converted] = distance_outside(lng[converted], lat[converted], service_area)
        outside = converted & (distance > _AREA_TOLERANCE_M)
        # In any coordinate system, a point that lands inside once its two numbers are
        # exchanged was written the wrong way round: say so rather than "far away".
        swapped = np.zeros(n, dtype=bool)
        if outside.any():
            with np.errstate(invalid="ignore"):
                sx, sy = to_wgs84(y[outside], x[outside], crs)
            ok = np.isfinite(sx) & np.isfinite(sy) & (np.abs(sx) <= 180) & (np.abs(sy) <= 90)
            inside = np.zeros(ok.shape, dtype=bool)
            inside[ok] = distance_outside(sx[ok], sy[ok], service_area) <= _AREA_TOLERANCE_M
            swapped[np.flatnonzero(outside)[inside]] = True
        rejects.add(
            swapped,
            "lng",
            columns["lng"],
            swap_reasons,
        )
        rejects.add(
            outside & ~swapped,
            "lng",
            columns["lng"],
            lambda w: [f"outside the service area by {distance[i]:,.0f} m" for i in w],
        )
    return x, y, lng, lat


def repeated_id_rows(ids: pd.Series, *, first_row: int = FIRST_DATA_ROW) -> np.ndarray:
    """For each row, the row number of the first row with its id if it repeats one, else 0.

    Parameters
    ----------
    ids : pandas.Series of str
        Stripped ids, "" where a row has none.
    first_row : int, default 2
        The row number of the first entry.

    Returns
    -------
    numpy.ndarray of int64
    """
    values = ids.to_numpy(dtype=object)
    repeated = (values != "") & ids.duplicated(keep="first").to_numpy()
    out = np.zeros(len(ids), dtype=np.int64)
    if repeated.any():
        rows = pd.Series(np.arange(first_row, first_row + len(ids)))
        out[repeated] = rows.groupby(values).transform("first").to_numpy()[repeated]
    return out


def validate_reports(
    raw: pd.DataFrame,
    *,
    crs: str = "wgs84",
    mapping: Mapping[str, str] | None = None,
    service_area: shapely.Geometry | None = None,
    grid: pd.DataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    existing_ids: frozenset[str] = frozenset(),
    now: dt.datetime | None = None,
    first_row: int = FIRST_DATA_ROW,
    repeats: np.ndarray | None = None,
) -> Validated:
    """Check every row of an import and build the report rows of the good ones.

    Parameters
    ----------
    raw : pandas.DataFrame
        The file as strings (see :func:`hotspot.intake.tables.read_csv_table`).
    crs : str, default "wgs84"
        Coordinate system of lng/lat (wgs84, gcj02, bd09, cgcs2000, EPSG:n).
    mapping : mapping, optional
        field -> header, from :func:`map_columns`; matched by name when omitted.
    service_area : shapely geometry, optional
        Reports outside it are rejected with their distance to it.
    grid : pandas.DataFrame, optional
        The community grid (``cell``, ``community_id``): a report goes to the community
        that owns its grid cell.
    communities, zones : geopandas.GeoDataFrame, optional
        With ``id`` columns, to attribute reports to a community and a storefront zone.
    existing_ids : frozenset of str
        External ids already in the store; such rows are skipped, not rejected.
    now : datetime.datetime, optional
        Local time after which a report date is "in the future".
    first_row : int, default 2
        The spreadsheet row number of ``raw``'s first row (a chunk of a larger file
        starts further down).
    repeats : numpy.ndarray, optional
        For each row, the row number where its id first appeared if it repeats an
        earlier id, else 0 (see :func:`repeated_id_rows`); computed from ``raw`` alone
        when omitted, so a caller validating a file in chunks passes the whole file's.

    Returns
    -------
    Validated
    """
    mapping = dict(mapping) if mapping is not None else map_columns(raw)
    crs = normalize_crs(crs)
    now = now or dt.datetime.now()
    n = len(raw)
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    rejects = _Rejections(rows)
    columns = _columns(raw, mapping)

    for field in REQUIRED:
        rejects.add((columns[field] == "").to_numpy(), field, "", "missing")
    x, y, lng, lat = _check_coordinates(columns, rejects, crs=crs, service_area=service_area)

    dates = {}
    for field in ("reported_at", "due_at", "resolved_at", "closed_at"):
        dates[field] = _parse_datetimes(columns[field])
        unparsed = (columns[field] != "").to_numpy() & dates[field].isna().to_numpy()
        rejects.add(unparsed, field, columns[field], "not a date")
    future = (dates["reported_at"] > pd.Timestamp(now)).to_numpy()
    rejects.add(future, "reported_at", columns["reported_at"], "in the future")

    category = _coded(
        columns["category"],
        taxonomy.resolve_categories,
        "category",
        rejects,
        default=None,
        suggest=taxonomy.suggest_category,
    )
    status = _coded(columns["status"], taxonomy.resolve_statuses, "status", rejects, default="new")
    source = _coded(columns["source"], taxonomy.resolve_sources, "source", rejects, default=None)
    for field, limit in _TEXT_LIMITS.items():
        too_long = (columns[field].str.len() > limit).to_numpy()
        rejects.add(
            too_long,
            field,
            columns[field].str.slice(0, 40) + "…",
            f"longer than {limit} characters",
        )

    # Ids: repeated within the file is an error; already in the store is skipped.
    external_id = columns["id"]
    has_id = (external_id != "").to_numpy()
    if repeats is None:
        repeats = repeated_id_rows(external_id, first_row=first_row)
    repeated = repeats > 0
    rejects.add(
        repeated, "id", external_id, lambda w: [f"repeats the id of row {repeats[i]}" for i in w]
    )
    in_store = has_id & ~repeated
    if existing_ids:
        in_store &= external_id.isin(list(existing_ids)).to_numpy()
    else:
        in_store[:] = False

    good = ~rejects.bad & ~in_store
    frame = pd.DataFrame(
        {
            "row": rows[good],
            "external_id": external_id[good].mask(~has_id[good]).array,
            "category": category[good],
            "lng": lng[good],
            "lat": lat[good],
            # lng/lat already are the original coordinates of a WGS84 file
            "orig_x": x[good] if crs != "wgs84" else np.nan,
            "orig_y": y[good] if crs != "wgs84" else np.nan,
            "orig_crs": crs,
            "reported_at": dates["reported_at"][good].to_numpy(),
            "source": source[good],
            "status": status[good],
            "due_at": dates["due_at"][good].to_numpy(),
            "resolved_at": dates["resolved_at"][good].to_numpy(),
            "closed_at": dates["closed_at"][good].to_numpy(),
        }
    )
    for field in ("description", "address", "reporter_name", "reporter_phone"):
        text = columns[field][good]
        frame[field] = text.mask(text == "").array
    frame["geom"] = points_to_wkb(frame["lng"].to_numpy(), frame["lat"].to_numpy())
    place = attribute_reports(
        frame["lng"].to_numpy(),
        frame["lat"].to_numpy(),
        grid=grid,
        communities=communities,
        zones=zones,
    )
    reports = pd.concat([frame, place.set_axis(frame.index)], axis=1)
    return Validated(
        reports=reports, rejects=rejects.frame(), already_imported=int(in_store.sum()), total=n
    )


def attribute_reports(
    lng: np.ndarray,
    lat: np.ndarray,
    *,
    grid: pd.DataFrame | None,
    communities: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """H3 cell (res 12), community and storefront zone of each report's point.

    Parameters
    ----------
    lng, lat : numpy.ndarray
        WGS84 coordinates of each report's representative point.
    grid : pandas.DataFrame or None
        Grid cells with ``cell`` and ``community_id``.
    communities, zones : geopandas.GeoDataFrame or None
        Polygons with an ``id`` column.

    Returns
    -------
    pandas.DataFrame
        ``cell`` (int64), ``community_id`` and ``zone_id`` (nullable Int64), aligned with
        the points.
    """
    cells = cells_from_points(lng, lat)
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs="EPSG:4326")
    communities = empty if communities is None else communities
    zones = empty if zones is None else zones
    grid = pd.DataFrame({"cell": [], "community_id": []}) if grid is None else grid
    community = communities_of_points(
        lng,
        lat,
        cells,
        grid_cells=grid["cell"].to_numpy(dtype=np.int64),
        grid_owners=grid["community_id"].to_numpy(dtype=np.int64),
        communities=communities.geometry.to_numpy(),
        community_ids=communities["id"].to_numpy(dtype=np.int64),
    )
    zone = zones_of_points(
        lng,
        lat,
        zones=zones.geometry.to_numpy(),
        zone_ids=zones["id"].to_numpy(dtype=np.int64),
    )
    return pd.DataFrame(
        {"cell": cells, "community_id": _nullable_ids(community), "zone_id": _nullable_ids(zone)}
    )


def _nullable_ids(ids: np.ndarray) -> pd.arrays.IntegerArray:
    out = pd.array(ids, dtype="Int64")
    out[ids < 0] = pd.NA
    return out
