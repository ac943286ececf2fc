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
from geo.zones import attribute_points, distance_outside
from hotspot import taxonomy
from hotspot.errors import UserError

__all__ = ["FIELDS", "REJECT_COLUMNS", "Validated", "map_columns", "validate_reports"]

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
_FIRST_DATA_ROW = 2  # rows are numbered as a spreadsheet shows them: the header is row 1


@dataclass
class Validated:
    """The outcome of validating a file.

    Attributes
    ----------
    reports : geopandas.GeoDataFrame
        Good rows as report-table columns (plus ``row``), attributed to community,
        storefront zone and H3 cell.
    rejects : pandas.DataFrame
        One line per problem: row, field, value, reason.
    already_imported : int
        Rows whose id is already in the store (skipped, so re-imports add nothing).
    total : int
        Data rows in the file.
    """

    reports: gpd.GeoDataFrame
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

    def add(self, mask, field: str, values, reasons) -> None:
        """Reject the rows in ``mask`` for ``field``; a field keeps its first reason only."""
        seen = self._bad_by_field.setdefault(field, np.zeros(self.rows.size, dtype=bool))
        mask = np.asarray(mask, dtype=bool) & ~seen
        if not mask.any():
            return
        values = np.broadcast_to(np.asarray(values, dtype=object), mask.shape)[mask]
        reasons = np.broadcast_to(np.asarray(reasons, dtype=object), mask.shape)[mask]
        self._parts.append(
            pd.DataFrame(
                {"row": self.rows[mask], "field": field, "value": values, "reason": reasons}
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


def _column(raw: pd.DataFrame, mapping: Mapping[str, str], field: str) -> np.ndarray:
    if field not in mapping:
        return np.full(len(raw), "", dtype=object)
    values = raw[mapping[field]].to_numpy(dtype=object)
    return np.array([v.strip() if isinstance(v, str) else "" for v in values], dtype=object)


def _parse_datetimes(values: np.ndarray) -> pd.Series:
    series = pd.Series(values, dtype=object).replace("", None)
    parsed = pd.to_datetime(series, errors="coerce", format="ISO8601")
    retry = parsed.isna() & series.notna()
    if retry.any():
        parsed = parsed.astype("datetime64[ns]") if parsed.dt.tz is None else parsed
        parsed[retry] = pd.to_datetime(series[retry], errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _text_limits(columns: dict[str, np.ndarray], rejects: _Rejections) -> None:
    for field, limit in _TEXT_LIMITS.items():
        lengths = np.fromiter((len(v) for v in columns[field]), dtype=np.int64)
        rejects.add(
            lengths > limit,
            field,
            np.array([v[:40] + "…" for v in columns[field]], dtype=object),
            f"longer than {limit} characters",
        )


def _coded(
    values: np.ndarray,
    resolver,
    field: str,
    rejects: _Rejections,
    *,
    default: str | None,
    suggest=None,
) -> np.ndarray:
    present = values != ""
    codes = np.full(values.size, default, dtype=object)
    if present.any():
        codes[present] = resolver(values[present])
    unknown = present & pd.isna(codes)
    if unknown.any():
        reasons = np.full(values.size, f"unknown {field}", dtype=object)
        if suggest is not None:
            for i in np.flatnonzero(unknown):
                hint = suggest(values[i])
                reasons[i] = f"unknown {field}" + (f"; did you mean {hint}?" if hint else "")
        rejects.add(unknown, field, values, reasons)
    return codes


def validate_reports(
    raw: pd.DataFrame,
    *,
    crs: str = "wgs84",
    mapping: Mapping[str, str] | None = None,
    service_area: shapely.Geometry | None = None,
    communities: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    existing_ids: frozenset[str] = frozenset(),
    now: dt.datetime | None = None,
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
    communities, zones : geopandas.GeoDataFrame, optional
        With ``id`` columns, to attribute reports to a community and a storefront zone.
    existing_ids : frozenset of str
        External ids already in the store; such rows are skipped, not rejected.
    now : datetime.datetime, optional
        Local time after which a report date is "in the future".

    Returns
    -------
    Validated
    """
    mapping = dict(mapping) if mapping is not None else map_columns(raw)
    crs = normalize_crs(crs)
    now = now or dt.datetime.now()
    n = len(raw)
    rows = np.arange(_FIRST_DATA_ROW, _FIRST_DATA_ROW + n, dtype=np.int64)
    rejects = _Rejections(rows)
    columns = {field: _column(raw, mapping, field) for field in FIELDS}

    for field in REQUIRED:
        rejects.add(columns[field] == "", field, "", "missing")

    # Coordinates
    x = pd.to_numeric(pd.Series(columns["lng"]), errors="coerce").to_numpy(dtype=np.float64)
    y = pd.to_numeric(pd.Series(columns["lat"]), errors="coerce").to_numpy(dtype=np.float64)
    for field, values, parsed in (("lng", columns["lng"], x), ("lat", columns["lat"], y)):
        rejects.add((values != "") & ~np.isfinite(parsed), field, values, "not a number")
    numeric = np.isfinite(x) & np.isfinite(y)
    if crs in ("wgs84", "gcj02", "bd09", "EPSG:4490"):
        swapped = numeric & looks_swapped(x, y)
        rejects.add(
            swapped,
            "lng",
            columns["lng"],
            np.array(
                [f"lng and lat look swapped (lng {a}, lat {b})" for a, b in zip(x, y, strict=True)],
                dtype=object,
            ),
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
    points = np.full(n, None, dtype=object)
    points[converted] = shapely.points(lng[converted], lat[converted])
    if service_area is not None and converted.any():
        distance = np.zeros(n)
        distance[converted] = distance_outside(points[converted], service_area)
        outside = converted & (distance > 0)
        rejects.add(
            outside,
            "lng",
            columns["lng"],
            np.array([f"outside the service area by {d:,.0f} m" for d in distance], dtype=object),
        )

    # Dates
    parsed_dates = {}
    for field in ("reported_at", "due_at", "resolved_at", "closed_at"):
        parsed = _parse_datetimes(columns[field])
        parsed_dates[field] = parsed
        rejects.add(
            (columns[field] != "") & parsed.isna().to_numpy(), field, columns[field], "not a date"
        )
    future = (parsed_dates["reported_at"] > pd.Timestamp(now)).to_numpy()
    rejects.add(future, "reported_at", columns["reported_at"], "in the future")

    # Codes
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
    _text_limits(columns, rejects)

    # Ids: repeated within the file is an error; already in the store is skipped.
    external_id = columns["id"]
    has_id = external_id != ""
    repeated = has_id & pd.Series(external_id).duplicated(keep="first").to_numpy()
    first_row = pd.Series(rows).groupby(pd.Series(external_id)).transform("first").to_numpy()
    rejects.add(
        repeated,
        "id",
        external_id,
        np.array([f"repeats the id of row {r}" for r in first_row], dtype=object),
    )
    in_store = has_id & ~repeated & np.isin(external_id, list(existing_ids))

    good = ~rejects.bad & ~in_store
    frame = pd.DataFrame(
        {
            "row": rows[good],
            "external_id": np.where(has_id, external_id, None)[good],
            "category": category[good],
            "description": columns["description"][good],
            "address": columns["address"][good],
            "lng": lng[good],
            "lat": lat[good],
            "orig_x": x[good],
            "orig_y": y[good],
            "orig_crs": crs,
            "reported_at": parsed_dates["reported_at"][good].to_numpy(),
            "source": source[good],
            "reporter_name": columns["reporter_name"][good],
            "reporter_phone": columns["reporter_phone"][good],
            "status": status[good],
            "due_at": parsed_dates["due_at"][good].to_numpy(),
            "resolved_at": parsed_dates["resolved_at"][good].to_numpy(),
            "closed_at": parsed_dates["closed_at"][good].to_numpy(),
        }
    )
    for field in ("description", "address", "reporter_name", "reporter_phone"):
        frame[field] = frame[field].replace("", None)
    reports = gpd.GeoDataFrame(frame, geometry=list(points[good]), crs="EPSG:4326")
    reports = attribute_reports(reports, communities=communities, zones=zones)
    return Validated(
        reports=reports, rejects=rejects.frame(), already_imported=int(in_store.sum()), total=n
    )


def attribute_reports(
    reports: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """Add ``cell`` (H3 res 12), ``community_id`` and ``zone_id`` by representative point.

    Parameters
    ----------
    reports : geopandas.GeoDataFrame
        With ``lng`` and ``lat`` of each report's representative point.
    communities, zones : geopandas.GeoDataFrame or None
        Polygons with an ``id`` column.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with the three columns added.
    """
    reports = reports.copy()
    reports["cell"] = cells_from_points(reports["lng"].to_numpy(), reports["lat"].to_numpy())
    points = shapely.points(reports["lng"].to_numpy(), reports["lat"].to_numpy())
    for column, polygons in (("community_id", communities), ("zone_id", zones)):
        ids = pd.array([None] * len(reports), dtype="Int64")
        if polygons is not None and len(polygons) and len(reports):
            position = attribute_points(points, polygons.geometry.to_numpy())
            found = position >= 0
            ids[found] = polygons["id"].to_numpy()[position[found]]
        reports[column] = ids
    return reports
