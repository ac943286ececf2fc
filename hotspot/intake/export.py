"""Exporting reports: GeoJSON and CSV with the exchange columns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine

from geo.cells import cells_to_strings
from hotspot.errors import UserError
from hotspot.filters import ReportFilter
from hotspot.store import frames

__all__ = [
    "DEMO_NOTICE",
    "EXPORT_COLUMNS",
    "EXPORT_FORMATS",
    "export_reports",
    "guess_format",
    "neutralise_formulas",
]

#: Properties of every exported report, in order.
EXPORT_COLUMNS = [
    "id",
    "external_id",
    "category",
    "category_name",
    "layer",
    "status",
    "reported_at",
    "community",
    "reporter_name",
    "reporter_phone",
    "description",
    "address",
    "source",
    "lng",
    "lat",
    "area_m2",
    "demolished_m2",
    "orig_x",
    "orig_y",
    "orig_crs",
    "due_at",
    "resolved_at",
    "closed_at",
    "zone_id",
    "cell",
    "duplicate_of",
    "relapse_of",
]
EXPORT_FORMATS = ("geojson", "csv")
DEMO_NOTICE = "演示数据（虚构） demo data (synthetic)"
_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".csv": "csv"}
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def guess_format(path: Path, fmt: str | None, *, allowed: tuple[str, ...]) -> str:
    """The file format: ``fmt`` if given, else from the file name.

    Raises
    ------
    UserError
        Unknown or unsupported format.
    """
    name = (fmt or _SUFFIXES.get(path.suffix.lower(), "")).lower()
    if not name:
        raise UserError(f"{path.name}: cannot tell the format from the name; give --format")
    if name not in allowed:
        raise UserError(f"format {name!r} is not supported here; use one of {', '.join(allowed)}")
    return name


def _plain_columns(reports: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=reports.index)
    for column in EXPORT_COLUMNS:
        values = reports[column]
        if column == "cell":
            values = pd.Series(cells_to_strings(values.to_numpy()), index=reports.index)
        elif pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object)
        out[column] = values.astype(object).where(values.notna(), None)
    return out


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula (= + - @ ...), prefixed with ``'``.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        A copy; numeric and datetime columns are left as they are (a number is no formula).
    """
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_datetime64_any_dtype(
            frame[column]
        ):
            continue
        text = frame[column].astype("string")
        risky = text.str.startswith(_FORMULA_PREFIXES).fillna(False).to_numpy(dtype=bool)
        if risky.any():
            frame.loc[risky, column] = "'" + text[risky]
    return frame


def _write_geojson(reports, plain: pd.DataFrame, path: Path, notice: str | None) -> None:
    geometries = shapely.to_geojson(reports.geometry.to_numpy())
    with path.open("w", encoding="utf-8") as out:
        header = {"type": "FeatureCollection", "crs_note": "WGS84 (EPSG:4326)"}
        if notice:
            header["notice"] = notice
        out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "features": [\n')
        records = plain.to_dict(orient="records")
        for i, (props, geometry) in enumerate(zip(records, geometries, strict=True)):
            props = {
                k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in props.items()
            }
            sep = ",\n" if i else ""
            out.write(
                f'{sep}{{"type": "Feature", "geometry": {geometry}, '
                f'"properties": {json.dumps(props, ensure_ascii=False)}}}'
            )
        out.write("\n]}\n")


def export_reports(
    engine: Engine, path: Path, *, fmt: str | None = None, filters: ReportFilter | None = None
) -> int:
    """Write the reports matching ``filters`` to ``path``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    path : pathlib.Path
    fmt : str, optional
        ``geojson`` or ``csv``; guessed from the name when omitted.
    filters : ReportFilter, optional

    Returns
    -------
    int
        Reports written.
    """
    fmt = guess_format(path, fmt, allowed=EXPORT_FORMATS)
    reports = frames.read_reports(engine, filters)
    notice = DEMO_NOTICE if frames.read_meta(engine).get("demo") == "true" else None
    plain = _plain_columns(reports)
    if fmt == "geojson":
        _write_geojson(reports, plain, path, notice)
    else:
        table = neutralise_formulas(plain)
        if notice:
            table["data_notice"] = notice
        table.to_csv(path, index=False, encoding="utf-8-sig")
    return len(reports)
