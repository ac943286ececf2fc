"""Open311 GeoReport v2 service requests: read for import, written for export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from hotspot import taxonomy
from hotspot.errors import UserError
from hotspot.intake.features import ReportSource, as_strings, refusals

__all__ = ["TIMEZONE", "looks_like_open311", "source_from_json", "write_open311"]

#: Our times are local (China Standard Time); Open311 wants an explicit offset.
TIMEZONE = "Asia/Shanghai"
_OFFSET = "+08:00"
# Open311 fields standing for our fields (the rest of a report goes to extended_attributes).
_STANDARD = {
    "service_request_id": "id",
    "long": "lng",
    "lat": "lat",
    "requested_datetime": "reported_at",
    "expected_datetime": "due_at",
    "description": "description",
    "address": "address",
}
# Our fields taken from extended_attributes when a file has them (our own exports do).
_EXTENDED = (
    "source",
    "reporter_name",
    "reporter_phone",
    "resolved_at",
    "closed_at",
    "orig_x",
    "orig_y",
    "orig_crs",
    "demolished_m2",
)
_HAS_OFFSET = r"(?:[Zz]|[+-]\d{2}:?\d{2})$"


def looks_like_open311(document: object) -> bool:
    """Whether parsed JSON is an Open311 file: a list, or ``{"service_requests": [...]}``."""
    return isinstance(document, list) or (
        isinstance(document, dict) and "service_requests" in document
    )


def _local_times(values: pd.Series) -> pd.Series:
    """ISO 8601 times with an offset as local (Asia/Shanghai) times without one.

    Times in one file may carry different offsets (daylight saving time); values without
    an offset, or unparseable, are left for the validation to read or reject.
    """
    zoned = values.str.contains(_HAS_OFFSET, regex=True).fillna(False).to_numpy(dtype=bool)
    if not zoned.any():
        return values
    parsed = pd.to_datetime(values[zoned], utc=True, errors="coerce", format="ISO8601")
    local = parsed.dt.tz_convert(TIMEZONE).dt.strftime("%Y-%m-%d %H:%M:%S")
    out = values.copy()
    ok = local.notna().to_numpy()
    out.iloc[np.flatnonzero(zoned)[ok]] = local[ok].to_numpy()
    return out


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name].str.strip()
    return pd.Series("", index=frame.index, dtype="string[pyarrow]")


def _categories(code: pd.Series, service: pd.Series) -> pd.Series:
    """The category of each request: its service code, else its service name.

    A code is one of ours, a name, an alias or a category's external code in
    categories.csv (Beijing's 200107 废弃车辆).
    """
    catalogue = taxonomy.load_categories()
    external = catalogue.loc[catalogue["external_code"] != "", "external_code"]
    by_external = pd.Series(external.index, index=external.to_numpy())
    ours = taxonomy.resolve_categories(code.to_numpy(dtype=object))
    theirs = by_external.reindex(code.to_numpy(dtype=object)).to_numpy(dtype=object)
    resolved = np.where(pd.notna(ours), ours, theirs)
    out = code.to_numpy(dtype=object).copy()
    out[pd.notna(resolved)] = resolved[pd.notna(resolved)]
    named = pd.isna(resolved) & (service != "").to_numpy()
    out[named] = service.to_numpy(dtype=object)[named]
    return pd.Series(pd.array(out, dtype="string[pyarrow]"), index=code.index)


def source_from_json(document: object, *, name: str) -> ReportSource:
    """The reports of a parsed Open311 GeoReport v2 list of service requests.

    ``service_request_id`` is the external id; ``service_code`` (our code, or a
    category's external code), else ``service_name`` (a name or alias), the category;
    ``status`` open is new and closed is closed, unless ``status_notes`` names one of
    our statuses of the same kind (our exports write it); ``updated_datetime`` of a
    closed (resolved) request is when it was closed (resolved); ``expected_datetime``
    the deadline. An ``extended_attributes`` object
    may add source, reporter, resolution and closing times and a footprint ``geometry``.

    Parameters
    ----------
    document : object
        The parsed JSON.
    name : str
        The file name, for messages.

    Returns
    -------
    ReportSource
        Requests numbered from 1.

    Raises
    ------
    UserError
        Not a list of service requests, or an empty one.
    """
    if isinstance(document, dict) and isinstance(document.get("service_requests"), list):
        requests = document["service_requests"]
    elif isinstance(document, list):
        requests = document
    else:
        found = (
            "a JSON object" if isinstance(document, dict) else f"a JSON {type(document).__name__}"
        )
        raise UserError(
            f"{name}: not an Open311 GeoReport v2 file, which is a JSON list of "
            f"service requests (found {found})"
        )
    if not requests:
        raise UserError(f"{name}: the file lists no service requests")
    is_request = np.array([isinstance(r, dict) for r in requests], dtype=bool)
    records = [r if ok else {} for r, ok in zip(requests, is_request, strict=True)]
    extended = [
        r.get("extended_attributes") if isinstance(r.get("extended_attributes"), dict) else {}
        for r in records
    ]
    shapes = [e.get("geometry") for e in extended]
    given = pd.DataFrame(
        [{k: v for k, v in r.items() if k != "extended_attributes"} for r in records], dtype=object
    )
    given = as_strings(given)
    extra = as_strings(
        pd.DataFrame(
            [{k: v for k, v in e.items() if k != "geometry"} for e in extended], dtype=object
        )
    )

    table = pd.DataFrame(index=given.index)
    for field, column in _STANDARD.items():
        table[column] = _column(given, field)
    if "external_id" in extra:
        # our own export: its service_request_id stands in for a missing external id
        ours = np.array(["external_id" in e for e in extended], dtype=bool)
        table.loc[ours, "id"] = extra.loc[ours, "external_id"]
    table["category"] = _categories(_column(given, "service_code"), _column(given, "service_name"))
    for column in ("reported_at", "due_at"):
        table[column] = _local_times(table[column])

    state = _column(given, "status").str.lower()
    status = state.where(
        ~state.isin(["open", "closed"]), state.map({"open": "new", "closed": "closed"})
    )
    notes = taxonomy.resolve_statuses(_column(given, "status_notes").to_numpy(dtype=object))
    noted = pd.notna(notes)
    opened = np.isin(notes.astype(str), taxonomy.OPEN_STATUSES)
    agrees = noted & (
        ((state == "open").to_numpy() & opened) | ((state == "closed").to_numpy() & ~opened)
    )
    status = status.to_numpy(dtype=object)
    status[agrees] = notes[agrees]
    table["status"] = pd.array(status, dtype="string[pyarrow]")

    for column in _EXTENDED:
        if column in extra:
            table[column] = extra[column]
            if column.endswith("_at"):
                table[column] = _local_times(table[column])
    updated = _local_times(_column(given, "updated_datetime"))
    for column, when in (("closed_at", "closed"), ("resolved_at", "resolved")):
        current = (
            table[column]
            if column in table
            else pd.Series("", index=table.index, dtype="string[pyarrow]")
        )
        fill = (table["status"] == when) & (current == "")
        table[column] = current.where(~fill, updated)

    geometry = None
    rejects = [refusals(np.flatnonzero(~is_request), 1, "request", "", "not a JSON object")]
    has_shape = np.array([isinstance(s, dict) for s in shapes], dtype=bool)
    if has_shape.any():
        geometry = np.full(len(records), None, dtype=object)
        texts = [json.dumps(s) for s, ok in zip(shapes, has_shape, strict=True) if ok]
        geometry[has_shape] = shapely.from_geojson(
            np.array(texts, dtype=object), on_invalid="ignore"
        )
        unreadable = np.flatnonzero(has_shape & pd.isna(geometry))
        rejects.append(refusals(unreadable, 1, "geometry", "", "unreadable GeoJSON geometry"))
    return ReportSource(
        table,
        geometry=geometry,
        rejects=pd.concat(rejects, ignore_index=True).sort_values("row", kind="stable"),
        first_row=1,
        unit="request",
    )


def _times(values: pd.Series) -> np.ndarray:
    text = values.dt.strftime("%Y-%m-%dT%H:%M:%S" + _OFFSET).astype(object)
    return text.where(values.notna(), None).to_numpy()


def write_open311(
    reports: pd.DataFrame,
    geometries: np.ndarray,
    properties: pd.DataFrame,
    path: Path,
    *,
    notice: str | None,
) -> None:
    """Write reports as an Open311 GeoReport v2 list of service requests.

    ``service_code`` is our category code and ``service_name`` its Chinese name;
    ``status`` is open for new, dispatched and in-progress reports and closed for the
    others, with our status's Chinese name in ``status_notes``; times carry +08:00.
    The rest of each report, and a footprint polygon as GeoJSON ``geometry``, go in
    ``extended_attributes``.

    Parameters
    ----------
    reports : pandas.DataFrame
        The reports as read from the store (typed columns).
    geometries : numpy.ndarray
        Their geometries (WGS84).
    properties : pandas.DataFrame
        The exchange columns, JSON-ready (None for missing).
    path : pathlib.Path
    notice : str, optional
        Added to every request's extended attributes (demo data).
    """
    status = reports["status"].to_numpy(dtype=object)
    names = {code: zh for code, (zh, _) in taxonomy.STATUS_NAMES.items()}
    updated = reports[["reported_at", "resolved_at", "closed_at"]].max(axis=1)
    external = properties["external_id"].to_numpy(dtype=object)
    ids = np.where(pd.isna(external), properties["id"].astype(str).to_numpy(dtype=object), external)
    standard = pd.DataFrame(
        {
            "service_request_id": ids,
            "status": np.where(np.isin(status, taxonomy.OPEN_STATUSES), "open", "closed"),
            "status_notes": [names.get(s) for s in status],
            "service_name": properties["category_name"].to_numpy(dtype=object),
            "service_code": properties["category"].to_numpy(dtype=object),
            "description": properties["description"].to_numpy(dtype=object),
            "requested_datetime": _times(reports["reported_at"]),
            "updated_datetime": _times(updated),
            "expected_datetime": _times(reports["due_at"]),
            "address": properties["address"].to_numpy(dtype=object),
            "lat": reports["lat"].to_numpy(dtype=np.float64),
            "long": reports["lng"].to_numpy(dtype=np.float64),
        }
    )
    covered = {"category", "category_name", "status", "lng", "lat", "reported_at", "due_at"}
    covered |= {"description", "address"}
    rest = properties[[c for c in properties.columns if c not in covered]].copy()
    for column in ("resolved_at", "closed_at"):
        rest[column] = _times(reports[column])
    extended = rest.to_dict(orient="records")
    polygonal = np.isin(shapely.get_type_id(geometries), (3, 6))
    shapes = np.full(len(extended), None, dtype=object)
    shapes[polygonal] = shapely.to_geojson(geometries[polygonal])
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for i, (request, attributes, shape) in enumerate(
            zip(standard.to_dict(orient="records"), extended, shapes, strict=True)
        ):
            attributes = {k: _plain(v) for k, v in attributes.items()}
            if shape is not None:
                attributes["geometry"] = json.loads(shape)
            if notice:
                attributes["data_notice"] = notice
            request = {k: _plain(v) for k, v in request.items()}
            request["extended_attributes"] = attributes
            out.write((",\n" if i else "") + json.dumps(request, ensure_ascii=False))
        out.write("\n]\n")


def _plain(value: object) -> object:
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
