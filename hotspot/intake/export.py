"""Exporting reports: GeoJSON, GeoPackage, CSV, XLSX and Open311, all with the same filters."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import shapely
from sqlalchemy import Engine

from geo.cells import cells_to_strings
from hotspot import taxonomy
from hotspot.errors import UserError
from hotspot.filters import ReportFilter, Scope
from hotspot.intake.features import FOOTPRINT_COLUMN
from hotspot.intake.formats import EXPORT_FORMATS, XLSX_HEADERS, export_format
from hotspot.store import frames

__all__ = [
    "DEMO_NOTICE",
    "EXPORT_COLUMNS",
    "EXPORT_FORMATS",
    "XLSX_MAX_ROWS",
    "exchange_table",
    "export_reports",
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
DEMO_NOTICE = "演示数据（虚构） demo data (synthetic)"
#: Data rows an XLSX sheet holds under its header.
XLSX_MAX_ROWS = 1_048_575
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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


def exchange_table(reports: pd.DataFrame) -> pd.DataFrame:
    """The exchange columns of reports, typed (numbers, datetimes; the H3 cell as text).

    Parameters
    ----------
    reports : pandas.DataFrame
        As :func:`hotspot.store.frames.read_reports` gives them.

    Returns
    -------
    pandas.DataFrame
        :data:`EXPORT_COLUMNS`, in order.
    """
    table = pd.DataFrame(index=reports.index)
    for column in EXPORT_COLUMNS:
        table[column] = reports[column]
    table["cell"] = cells_to_strings(reports["cell"].to_numpy(dtype=np.int64))
    return table.reset_index(drop=True)


def _footprints_wkt(geometries: np.ndarray) -> np.ndarray:
    """Polygons as WKT (None for points): footprints for the CSV and XLSX exports."""
    out = np.full(len(geometries), None, dtype=object)
    polygonal = np.isin(shapely.get_type_id(geometries), (3, 6))
    out[polygonal] = shapely.to_wkt(geometries[polygonal], rounding_precision=-1)
    return out


def _write_xlsx(reports: pd.DataFrame, path: Path, notice: str | None) -> None:
    if len(reports) > XLSX_MAX_ROWS:
        raise UserError(
            f"{len(reports):,} reports do not fit an XLSX sheet ({XLSX_MAX_ROWS:,} rows); "
            "narrow the filters or export CSV"
        )
    table = exchange_table(reports)
    statuses = {code: zh for code, (zh, _) in taxonomy.STATUS_NAMES.items()}
    sources = {code: zh for code, (zh, _) in taxonomy.SOURCES.items()}
    layers = {code: zh for code, (zh, _) in taxonomy.LAYER_NAMES.items()}
    for column, names in (("status", statuses), ("source", sources), ("layer", layers)):
        table[column] = table[column].map(names).fillna(table[column]).astype(object)
    table[FOOTPRINT_COLUMN] = _footprints_wkt(reports.geometry.to_numpy())
    table = neutralise_formulas(table)
    if notice:
        table["data_notice"] = notice
    # openpyxl's write-only mode streams the rows: three times faster than pandas' writer
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("问题清单")
    sheet.freeze_panes = "A2"
    sheet.append([XLSX_HEADERS.get(c, c) for c in table.columns])
    columns = [table[c].astype(object).where(table[c].notna(), None) for c in table.columns]
    for row in zip(*(c.to_numpy() for c in columns), strict=True):
        sheet.append(row)
    book.save(path)


def _narrow_layers(
    engine: Engine, layers: dict[str, gpd.GeoDataFrame], scope: Scope
) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage's zone, community and grid layers kept to ``scope``, contacts as it may see.

    :func:`hotspot.intake.gpkg.gpkg_layers` reads them for the whole town; the rows and
    the responsible persons' contacts are taken from the scoped reads instead.
    """
    if scope.whole_town and scope.personal_data:
        return layers
    zones = frames.read_zones(engine, scope).set_index("id")
    kept = layers["storefront_zones"]
    kept = kept[kept["id"].isin(zones.index).to_numpy(dtype=bool)].copy()
    for column in ("responsible_person", "responsible_phone"):
        kept[column] = zones[column].reindex(kept["id"].to_numpy()).to_numpy(dtype=object)
    communities = frames.read_communities(engine, scope)["id"]
    grid = cells_to_strings(frames.read_grid_cells(engine, scope=scope)["cell"].to_numpy())
    narrowed = dict(layers)
    narrowed["storefront_zones"] = kept
    narrowed["communities"] = layers["communities"][
        layers["communities"]["id"].isin(communities).to_numpy(dtype=bool)
    ]
    narrowed["grid_cells"] = layers["grid_cells"][
        layers["grid_cells"]["cell"].isin(grid).to_numpy(dtype=bool)
    ]
    return narrowed


def export_reports(
    engine: Engine, path: Path, *, fmt: str | None = None, filters: ReportFilter | None = None
) -> int:
    """Write the reports matching ``filters`` to ``path``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    path : pathlib.Path
    fmt : str, optional
        One of :data:`EXPORT_FORMATS` (geojson, gpkg, csv, xlsx, open311); guessed
        from the name when omitted.
    filters : ReportFilter, optional
        The reports; ``filters.scope`` keeps every layer to the viewer's part of the
        town and masks personal data as the viewer may see it.

    Returns
    -------
    int
        Reports written.

    Raises
    ------
    UserError
        Unknown format, a missing directory, or too many reports for XLSX.
    """
    from hotspot.intake.geojson import write_geojson
    from hotspot.intake.gpkg import gpkg_layers, write_gpkg
    from hotspot.intake.open311 import write_open311

    fmt = export_format(path, fmt)
    if not path.parent.is_dir():
        raise UserError(f"{path}: no such directory {path.parent}")
    filters = filters or ReportFilter()
    reports = frames.read_reports(engine, filters)
    notice = DEMO_NOTICE if frames.read_meta(engine).get("demo") == "true" else None
    geometries = reports.geometry.to_numpy()
    if fmt == "geojson":
        write_geojson(geometries, _plain_columns(reports), path, notice=notice)
    elif fmt == "open311":
        write_open311(reports, geometries, _plain_columns(reports), path, notice=notice)
    elif fmt == "gpkg":
        layers = gpkg_layers(engine, reports, exchange_table(reports), filters)
        write_gpkg(path, _narrow_layers(engine, layers, filters.scope), notice=notice)
    elif fmt == "xlsx":
        _write_xlsx(reports, path, notice)
    else:
        table = _plain_columns(reports)
        table[FOOTPRINT_COLUMN] = _footprints_wkt(geometries)
        table = neutralise_formulas(table)
        if notice:
            table["data_notice"] = notice
        table.to_csv(path, index=False, encoding="utf-8-sig")
    return len(reports)
