"""Validating imported report rows: one pass over whole columns, every rejection named."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.cells import cells_from_points
from geo.crs import looks_swapped, normalize_crs, to_wgs84
from geo.dms import parse_dms
from geo.wkb import points_to_wkb
from geo.zones import communities_of_points, distance_outside, zones_of_points
from hotspot import taxonomy
from hotspot.errors import UserError

__all__ = [
    "FIELDS",
    "FIRST_DATA_ROW",
    "NO_VALUE",
    "REJECT_COLUMNS",
    "Validated",
    "map_columns",
    "repeated_id_rows",
    "validate_reports",
]

#: Report fields an import understands, with the header names each is found under
#: (first the canonical name, then names seen in 12345 work-order exports).
FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("external_id", "id", "工单编号", "工单号", "编号"),
    # 小类 before 分类: a 12345 export with both has the class (市容环境) in 分类
    "category": (
        "category",
        "小类",
        "三级分类",
        "二级分类",
        "问题类型",
        "问题分类",
        "分类",
        "category_name",
    ),
    "lng": ("lng", "lon", "longitude", "经度", "坐标X"),
    "lat": ("lat", "latitude", "纬度", "坐标Y"),
    "reported_at": ("reported_at", "受理时间", "上报时间", "发现时间", "时间"),
    "description": ("description", "主要内容", "诉求内容", "问题描述", "描述", "内容"),
    "source": ("source", "来源", "问题来源", "来源渠道"),
    "status": ("status", "工单状态", "办理状态", "状态", "处理状态"),
    "address": ("address", "地址", "问题地址", "事发地址", "事发地点", "发生地址"),
    "reporter_name": ("reporter_name", "来电人", "诉求人", "上报人", "反映人"),
    "reporter_phone": ("reporter_phone", "联系电话", "来电号码", "电话"),
    "due_at": ("due_at", "限期", "整改期限", "办理时限", "要求办结时间"),
    "resolved_at": ("resolved_at", "整改时间", "办结时间"),
    "closed_at": ("closed_at", "结案时间"),
}
REQUIRED = ("category", "lng", "lat", "reported_at")
REJECT_COLUMNS = ["row", "field", "value", "reason"]
#: Longest text per field: the report table's column lengths (description is TEXT, capped
#: here), so that no database truncates a value or fails the whole import on one.
_TEXT_LIMITS = {
    "id": 64,
    "description": 4000,
    "address": 200,
    "reporter_name": 50,
    "reporter_phone": 30,
}
#: Cells that spreadsheets and databases write for "no value": read as empty.
NO_VALUE = (
    "nan",
    "NaN",
    "NAN",
    "null",
    "NULL",
    "Null",
    "None",
    "none",
    "NONE",
    "N/A",
    "n/a",
    "#N/A",
    "NaT",
    "<NA>",
)
# Control characters (C0 but tab and line breaks, DEL, C1) and the bidirectional
# overrides that make text display other than it reads.
_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_CONTROL_RE = re.compile(_CONTROL)
#: Rejected values longer than this are quoted cut short in FILE.rejects.csv.
_QUOTE_CHARS = 40
#: Points this close to the service area count as inside (coordinates rounded to 1e-5°).
_AREA_TOLERANCE_M = 1.5
#: Rows are numbered as a spreadsheet shows them: the header is row 1.
FIRST_DATA_ROW = 2
# Systems where a swapped lng/lat can be told from the numbers alone.
_GEOGRAPHIC = ("wgs84", "gcj02", "bd09", "EPSG:4490")


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
        if "lng" in missing and "lat" in missing:
            rest = [f for f in missing if f not in ("lng", "lat")]
            reason = "no coordinate columns (lng/经度 and lat/纬度, or --map lng=COLUMN lat=COLUMN)"
            reason += f" and missing column(s) {', '.join(rest)}" if rest else ""
        else:
            reason = f"missing column(s) {', '.join(missing)}"
        header = ", ".join(map(str, raw.columns))
        reason += f"; the header has {header[:200]}" + ("…" if len(header) > 200 else "")
        others = raw.attrs.get("other_sheets") or []
        if others:
            sheets = ", ".join(map(repr, others))
            reason += f"; read sheet {raw.attrs.get('sheet')!r}, the data may be on {sheets}"
        raise UserError(reason)
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

        ``values`` is a column (or a scalar) to quote; ``values`` and ``reason`` may
        also be functions of the rejected positions returning one entry each, so that
        they are only formatted for the rows that need them.
        """
        seen = self._bad_by_field.setdefault(field, np.zeros(self.rows.size, dtype=bool))
        mask = np.asarray(mask, dtype=bool) & ~seen
        if not mask.any():
            return
        where = np.flatnonzero(mask)
        if callable(values):
            quoted = values(where)
        elif isinstance(values, pd.Series):
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


def _columns(
    raw: pd.DataFrame, mapping: Mapping[str, str]
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Every field as a stripped string column, "no value" words (NULL, nan) made empty.

    Returns the columns (one shared all-empty column for absent fields) and, for the
    fields where a "no value" word was emptied, the stripped column as written.
    """
    absent = pd.Series(pd.array([""], dtype="string[pyarrow]")).repeat(len(raw))
    absent.index = raw.index
    columns, written = {}, {}
    for field in FIELDS:
        if field not in mapping:
            columns[field] = absent
            continue
        column = raw[mapping[field]].astype("string[pyarrow]").fillna("").str.strip()
        no_value = column.isin(NO_VALUE).to_numpy()
        if no_value.any():
            written[field] = column
            column = column.mask(no_value, "")
        columns[field] = column
    return columns, written


def _quote_long(values: pd.Series):
    """Quoting function for :meth:`_Rejections.add`: long values cut short."""

    def quote(where: np.ndarray) -> list[str]:
        texts = values.iloc[where].tolist()
        return [t if len(t) <= _QUOTE_CHARS else t[:_QUOTE_CHARS] + "…" for t in texts]

    return quote


def _check_text(columns: dict[str, pd.Series], fields, rejects: _Rejections) -> None:
    """Reject control characters and text longer than the store keeps.

    Only free-text fields are searched for control characters: in a number, a date or a
    coded value (category, status, source) one makes the value unreadable anyway.
    """
    for field in fields:
        column = columns[field]
        control = column.str.contains(_CONTROL, regex=True).to_numpy(dtype=bool)

        def quote(where: np.ndarray, column=column) -> list[str]:
            texts = column.iloc[where].tolist()
            escaped = [_CONTROL_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", t) for t in texts]
            return [t if len(t) <= _QUOTE_CHARS else t[:_QUOTE_CHARS] + "…" for t in escaped]

        def where_control(where: np.ndarray, column=column) -> list[str]:
            found = [_CONTROL_RE.search(t) for t in column.iloc[where].tolist()]
            return [
                f"control character U+{ord(m.group()):04X} at character {m.start() + 1}"
                for m in found
            ]

        rejects.add(control, field, quote, where_control)
        limit = _TEXT_LIMITS[field]
        lengths = column.str.len().to_numpy(dtype=np.int64, na_value=0)
        rejects.add(
            lengths > limit,
            field,
            _quote_long(column),
            lambda w, lengths=lengths, limit=limit: [
                f"longer than {limit} characters ({lengths[i]:,})" for i in w
            ],
        )


#: A time of day followed by a UTC offset (Z, +08:00, -0500).
_OFFSET_TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$"


def _parse_datetimes(values: pd.Series) -> pd.Series:
    text = values.mask(values == "")
    # Times with a UTC offset (possibly different offsets in one column, which pandas
    # refuses to parse together) become Beijing local time; the rest are local already.
    aware = text.str.contains(_OFFSET_TIME, regex=True, na=False).to_numpy(dtype=bool)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if aware.any():
        utc = pd.to_datetime(text[aware], errors="coerce", format="ISO8601", utc=True)
        parsed[aware] = utc.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    if (~aware).any():
        local = pd.to_datetime(text[~aware], errors="coerce", format="ISO8601")
        parsed[~aware] = local.astype("datetime64[ns]")
    retry = parsed.isna() & text.notna()
    if retry.any():
        # Dates such as 2026/11/20 8:05, 20261120 or 2026年11月20日 8时05分: parse the
        # leftovers one by one.
        leftovers = text[retry].astype(str)
        for pattern, replacement in _CHINESE_DATE:
            leftovers = leftovers.str.replace(pattern, replacement, regex=True)
        again = pd.to_datetime(
            leftovers.str.strip(" :").astype(object), errors="coerce", format="mixed"
        )
        parsed[retry] = again.astype("datetime64[ns]")
    return parsed


_CHINESE_DATE = (
    (r"(\d)\s*[年月]\s*", r"\1-"),
    (r"(\d)\s*[日号]\s*", r"\1 "),
    (r"(\d)\s*[时点]\s*", r"\1:"),
    (r"(\d)\s*分\s*", r"\1:"),
    (r"(\d)\s*秒", r"\1"),
)


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


_BAD_DMS = (
    "not a valid degree-minute-second coordinate (minutes and seconds below 60, "
    "one hemisphere or sign)"
)


def _parse_coordinate(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decimal degrees of a coordinate column, also from degree-minute-second text.

    Returns the numbers (NaN where unreadable), the hemisphere letter written ("" where
    none) and whether an unreadable value is written as degrees (a malformed DMS value).
    """
    n = len(text)
    value = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    hemisphere = np.full(n, "", dtype="<U1")
    bad_dms = np.zeros(n, dtype=bool)
    left = np.flatnonzero((text != "").to_numpy() & ~np.isfinite(value))
    if left.size:
        # Only the values that are not plain numbers: full-width digits, then DMS text.
        written = text.iloc[left].tolist()
        width = pd.Series([unicodedata.normalize("NFKC", t) for t in written], dtype=object)
        again = pd.to_numeric(width, errors="coerce").to_numpy(dtype=np.float64)
        dms = parse_dms(written)
        use_dms = ~np.isfinite(again)
        value[left] = np.where(use_dms, dms.degrees, again)
        hemisphere[left] = np.where(use_dms, dms.hemisphere, "")
        bad_dms[left] = use_dms & dms.shaped & ~np.isfinite(dms.degrees)
    return value, hemisphere, bad_dms


def _check_coordinates(
    columns: dict[str, pd.Series],
    rejects: _Rejections,
    *,
    crs: str,
    service_area: shapely.Geometry | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse, convert and place lng/lat; returns x, y (as given) and WGS84 lng, lat."""
    n = len(columns["lng"])
    x, x_hemisphere, x_dms = _parse_coordinate(columns["lng"])
    y, y_hemisphere, y_dms = _parse_coordinate(columns["lat"])
    # A hemisphere letter tells which axis a degree value is on.
    lng_is_lat = np.isin(x_hemisphere, ["N", "S"])
    lat_is_lng = np.isin(y_hemisphere, ["E", "W"])
    rejects.add(
        lng_is_lat & lat_is_lng,
        "lng",
        columns["lng"],
        lambda w: [
            f"lng and lat look swapped (lng {x_hemisphere[i]}, lat {y_hemisphere[i]})" for i in w
        ],
    )
    rejects.add(
        lng_is_lat,
        "lng",
        columns["lng"],
        lambda w: [
            f"hemisphere {x_hemisphere[i]} belongs to a latitude, not a longitude" for i in w
        ],
    )
    rejects.add(
        lat_is_lng & ~lng_is_lat,
        "lat",
        columns["lat"],
        lambda w: [
            f"hemisphere {y_hemisphere[i]} belongs to a longitude, not a latitude" for i in w
        ],
    )
    for field, parsed, dms in (("lng", x, x_dms), ("lat", y, y_dms)):
        present = (columns[field] != "").to_numpy()
        rejects.add(present & ~np.isfinite(parsed) & dms, field, columns[field], _BAD_DMS)
        rejects.add(present & ~np.isfinite(parsed), field, columns[field], "not a number")
    numeric = np.isfinite(x) & np.isfinite(y) & ~lng_is_lat & ~lat_is_lng

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
        # Both numbers in the thousands: metres of a projected system, not degrees.
        metres = numeric & ~swapped & (np.abs(x) > 1000) & (np.abs(y) > 1000)
        rejects.add(
            metres,
            "lng",
            columns["lng"],
            lambda w: [
                f"not degrees (lng {x[i]:.0f}, lat {y[i]:.0f}): projected coordinates in metres? "
                "give their system with --crs, e.g. --crs EPSG:4548"
                for i in w
            ],
        )
        rejects.add(
            numeric & ~swapped & ~metres & (np.abs(x) > 180),
            "lng",
            columns["lng"],
            "outside -180..180",
        )
        rejects.add(
            numeric & ~swapped & ~metres & (np.abs(y) > 90),
            "lat",
            columns["lat"],
            "outside -90..90",
        )
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

    Each problem is named by row, field and reason: a required field missing (empty or a
    :data:`NO_VALUE` word such as NULL or nan); coordinates that are not numbers or
    degree-minute-second text (116°18'30.5"E, 东经116度18分30.5秒, read as decimal
    degrees), swapped, in metres without ``crs``, or outside the service area (with the
    distance); dates that cannot be read or lie in the future; an unknown category (with
    the closest known one), status or source; free text with control characters or
    longer than the store keeps; an id repeating an earlier row's. Ids already in the
    store are skipped and counted, not rejected.

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
    columns, written = _columns(raw, mapping)

    for field in REQUIRED:
        as_written = written.get(field, columns[field])
        rejects.add(
            (columns[field] == "").to_numpy(),
            field,
            as_written,
            lambda w, as_written=as_written: [
                f'missing ("{as_written.iloc[i]}" is no value)' if as_written.iloc[i] else "missing"
                for i in w
            ],
        )
    _check_text(columns, [f for f in _TEXT_LIMITS if f in mapping], rejects)
    x, y, lng, lat = _check_coordinates(columns, rejects, crs=crs, service_area=service_area)

    dates = {}
    for field in ("reported_at", "due_at", "resolved_at", "closed_at"):
        dates[field] = _parse_datetimes(columns[field])
        unparsed = (columns[field] != "").to_numpy() & dates[field].isna().to_numpy()
        rejects.add(unparsed, field, columns[field], "not a date")
    future = (dates["reported_at"] > pd.Timestamp(now)).to_numpy()
    rejects.add(
        future,
        "reported_at",
        columns["reported_at"],
        f"in the future (now is {now:%Y-%m-%d %H:%M})",
    )

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
