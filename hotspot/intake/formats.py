"""Import and export formats: names, guessing from the file name, and the one import reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from hotspot.errors import UserError
from hotspot.intake.features import (
    FOOTPRINT_COLUMN,
    ReportSource,
    choose_crs,
    coordinate_columns,
    place_geometries,
    read_json,
    refusals,
)
from hotspot.intake.reports import FIRST_DATA_ROW
from hotspot.intake.tables import read_csv_table, read_xlsx_table

__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "XLSX_HEADERS",
    "export_format",
    "import_format",
    "read_report_source",
    "read_report_table",
]

IMPORT_FORMATS = ("csv", "xlsx", "geojson", "open311", "gpkg")
EXPORT_FORMATS = ("geojson", "gpkg", "csv", "xlsx", "open311")
# Other names for the formats, as --format values or file suffixes.
_ALIASES = {
    "txt": "csv",
    "xlsm": "xlsx",
    "excel": "xlsx",
    "geopackage": "gpkg",
    "georeport": "open311",
}
_SUFFIXES = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".geojson": "geojson",
    ".gpkg": "gpkg",
    ".open311": "open311",
}
_OPEN311_SUFFIX = ".open311.json"

#: The XLSX export's Chinese headers; the ones a 12345 export also uses import back by
#: the aliases of :data:`hotspot.intake.reports.FIELDS`.
XLSX_HEADERS = {
    "id": "系统编号",
    "external_id": "工单编号",
    "category": "类别代码",
    "category_name": "小类",
    "layer": "图层",
    "status": "工单状态",
    "reported_at": "上报时间",
    "community": "社区",
    "reporter_name": "上报人",
    "reporter_phone": "联系电话",
    "description": "问题描述",
    "address": "地址",
    "source": "来源",
    "lng": "经度",
    "lat": "纬度",
    "area_m2": "面积(平方米)",
    "demolished_m2": "已拆除面积(平方米)",
    "orig_x": "原始X坐标",
    "orig_y": "原始Y坐标",
    "orig_crs": "原始坐标系",
    "due_at": "整改期限",
    "resolved_at": "整改时间",
    "closed_at": "结案时间",
    "zone_id": "门前三包责任区编号",
    "cell": "H3网格",
    "duplicate_of": "重复工单",
    "relapse_of": "反弹自",
    FOOTPRINT_COLUMN: "占地范围(WKT)",
    "data_notice": "数据说明",
}


def _named(fmt: str, allowed: tuple[str, ...]) -> str:
    name = fmt.strip().lower().lstrip(".")
    name = _ALIASES.get(name, name)
    if name not in allowed:
        raise UserError(f"format {fmt!r} is not supported here; use one of {', '.join(allowed)}")
    return name


def export_format(path: Path, fmt: str | None) -> str:
    """The format to write ``path`` in: ``fmt`` if given, else from the file name.

    ``.json`` is GeoJSON, ``NAME.open311.json`` Open311.

    Raises
    ------
    UserError
        Unknown or unsupported format.
    """
    if fmt:
        return _named(fmt, EXPORT_FORMATS)
    if path.name.lower().endswith(_OPEN311_SUFFIX):
        return "open311"
    suffix = path.suffix.lower()
    name = _SUFFIXES.get(suffix) or ("geojson" if suffix == ".json" else "")
    if not name:
        raise UserError(f"{path.name}: cannot tell the format from the name; give --format")
    return name


def import_format(path: Path, fmt: str | None) -> str:
    """The format to read ``path`` as: ``fmt`` if given, else from the file name.

    A ``.json`` file is Open311 when it holds a list, GeoJSON otherwise (decided when
    it is read); a name without a suffix is CSV.

    Returns
    -------
    str
        One of :data:`IMPORT_FORMATS`, or ``json`` for a ``.json`` file.

    Raises
    ------
    UserError
        Unknown or unsupported format.
    """
    if fmt:
        return _named(fmt, IMPORT_FORMATS)
    if path.name.lower().endswith(_OPEN311_SUFFIX):
        return "open311"
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if not suffix:
        return "csv"
    if suffix not in _SUFFIXES:
        raise UserError(
            f"{path.name}: unsupported import format {suffix.lstrip('.')!r}; "
            f"use {', '.join(IMPORT_FORMATS)} (or give --format)"
        )
    return _SUFFIXES[suffix]


def _tabular(table: pd.DataFrame) -> ReportSource:
    """A CSV or XLSX table; footprints come from a WKT column if it has one."""
    first_row = int(table.attrs.get("first_row", FIRST_DATA_ROW))
    headers = {str(h).casefold(): h for h in table.columns}
    column = headers.get(FOOTPRINT_COLUMN) or headers.get(XLSX_HEADERS[FOOTPRINT_COLUMN].casefold())
    if column is None:
        return ReportSource(table, first_row=first_row)
    text = table[column].astype("string[pyarrow]").fillna("").str.strip()
    given = (text != "").to_numpy()
    geometry = np.full(len(table), None, dtype=object)
    geometry[given] = shapely.from_wkt(text[given].to_numpy(dtype=object), on_invalid="ignore")
    unreadable = np.flatnonzero(given & pd.isna(geometry))
    quoted = text.iloc[unreadable].str.slice(0, 40).to_numpy(dtype=object)
    rejects = refusals(unreadable, first_row, column, quoted, "not WKT")
    return ReportSource(table, geometry=geometry, rejects=rejects, first_row=first_row)


def read_report_source(path: Path, fmt: str | None = None, *, layer: str | None = None):
    """Read a report file of any import format, before validation.

    Parameters
    ----------
    path : pathlib.Path
    fmt : str, optional
        One of :data:`IMPORT_FORMATS`; guessed from the name when omitted.
    layer : str, optional
        The GeoPackage layer to read.

    Returns
    -------
    hotspot.intake.features.ReportSource

    Raises
    ------
    UserError
        No such file, an unsupported format, or a file that cannot be read at all.
    """
    from hotspot.intake import geojson, gpkg, open311

    if not path.is_file():
        raise UserError(f"{path}: no such file")
    name = import_format(path, fmt)
    if layer is not None and name != "gpkg":
        raise UserError("--layer applies to GeoPackage files only")
    if name == "csv":
        return _tabular(read_csv_table(path))
    if name == "xlsx":
        return _tabular(read_xlsx_table(path))
    if name == "gpkg":
        return gpkg.read_gpkg(path, layer=layer)
    document = read_json(path)
    if name == "open311" or (name == "json" and open311.looks_like_open311(document)):
        return open311.source_from_json(document, name=path.name)
    return geojson.source_from_json(document, name=path.name)


def read_report_table(
    path: Path, fmt: str | None = None, *, crs: str | None = None
) -> pd.DataFrame:
    """Read a report file of any import format as a table of strings.

    Parameters
    ----------
    path : pathlib.Path
    fmt : str, optional
        One of :data:`IMPORT_FORMATS`; guessed from the file name when omitted.
    crs : str, optional
        Coordinate system of the file (default: what it declares, else WGS84).

    Returns
    -------
    pandas.DataFrame
        One row per report; features' geometries give ``lng``/``lat`` (a polygon's
        representative point), in the file's coordinates.
    """
    source = read_report_source(path, fmt)
    crs = choose_crs(crs, source.declared_crs, name=path.name)
    return place_geometries(source, crs, columns=coordinate_columns(source.table)).table
