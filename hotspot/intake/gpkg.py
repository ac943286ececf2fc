"""GeoPackage: reports and their context as QGIS layers for export; a layer read for import."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Engine

from geo.cells import GRID_RES, cell_boundaries, cell_parents, cells_to_strings
from hotspot.errors import UserError
from hotspot.filters import ReportFilter
from hotspot.intake.features import ReportSource, as_strings, declared_crs
from hotspot.store import frames

__all__ = ["FOOTPRINT_LAYER", "LAYERS", "gpkg_layers", "read_gpkg", "write_gpkg"]

#: The layers an export writes, in order.
LAYERS = ("reports", "report_footprints", "storefront_zones", "communities", "grid_cells")
#: Footprint polygons of the reports layer's points, joined on ``report_id``.
FOOTPRINT_LAYER = "report_footprints"
_CRS = "EPSG:4326"
_ACCEPTED_TYPES = ("Point", "Polygon", "MultiPolygon", "Point Z", "Polygon Z", "MultiPolygon Z")
_EMPTY_TYPES = {
    "reports": "Point",
    "report_footprints": "MultiPolygon",
    "storefront_zones": "Polygon",
    "communities": "Polygon",
    "grid_cells": "Polygon",
}


def _choose_layer(path: Path, layers: np.ndarray, layer: str | None) -> str:
    names = [str(n) for n in layers[:, 0]]
    listing = ", ".join(f"{n} ({t})" for n, t in layers.tolist())
    if layer is not None:
        if layer not in names:
            raise UserError(f"{path.name}: no layer {layer!r}; its layers are {listing}")
        return layer
    if "reports" in names:
        return "reports"
    usable = [n for n, t in layers.tolist() if t in _ACCEPTED_TYPES]
    if len(usable) == 1:
        return usable[0]
    if not usable:
        raise UserError(f"{path.name}: no point or polygon layer (its layers are {listing})")
    raise UserError(f"{path.name}: several layers ({listing}); choose one with --layer")


def read_gpkg(path: Path, *, layer: str | None = None) -> ReportSource:
    """The reports of a GeoPackage layer: points, or polygons for footprint categories.

    Parameters
    ----------
    path : pathlib.Path
    layer : str, optional
        The layer; by default ``reports`` (our export's, whose footprints are joined back
        from ``report_footprints``), else the file's only point or polygon layer.

    Returns
    -------
    ReportSource
        Attributes as strings, geometries in the layer's declared CRS; features numbered
        from 1 in the layer's order.

    Raises
    ------
    UserError
        Not a GeoPackage, no such layer, or no layer to choose.
    """
    try:
        layers = pyogrio.list_layers(path)
        name = _choose_layer(path, layers, layer)
        frame = pyogrio.read_dataframe(path, layer=name)
    except pyogrio.errors.DataSourceError as exc:
        reason = str(exc).split(";")[0].removeprefix(f"'{path}' ").strip()
        raise UserError(f"{path.name}: not a readable GeoPackage ({reason})") from None
    if frame.empty:
        raise UserError(f"{path.name}: layer {name!r} has no features")
    crs = declared_crs(frame.crs, name=path.name)
    geometry = np.asarray(frame.geometry.to_numpy(), dtype=object)
    table = as_strings(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
    if name == "reports" and FOOTPRINT_LAYER in layers[:, 0].tolist():
        footprints = pyogrio.read_dataframe(path, layer=FOOTPRINT_LAYER, columns=["report_id"])
        if "id" in table and len(footprints):
            where = pd.Index(footprints["report_id"].astype("int64")).get_indexer(
                pd.to_numeric(table["id"], errors="coerce")
            )
            found = where >= 0
            geometry[found] = footprints.geometry.to_numpy()[where[found]]
    return ReportSource(
        table,
        geometry=geometry,
        geometry_required=True,
        declared_crs=crs,
        first_row=1,
        unit="feature",
    )


def _counts(keys: np.ndarray, of: np.ndarray) -> np.ndarray:
    """How many of ``keys`` equal each of ``of``."""
    counts = pd.Series(keys).value_counts()
    return counts.reindex(of, fill_value=0).to_numpy(dtype=np.int64)


def gpkg_layers(
    engine: Engine, reports: gpd.GeoDataFrame, table: pd.DataFrame, filters: ReportFilter
) -> dict[str, gpd.GeoDataFrame]:
    """The layers of a GeoPackage export.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    reports : geopandas.GeoDataFrame
        The exported reports as read from the store.
    table : pandas.DataFrame
        Their exchange columns (typed, one row per report).
    filters : ReportFilter
        The export's filters; a community filter keeps that community's zones and cells.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        ``reports`` (every report at its point, all exchange columns),
        ``report_footprints`` (polygons of footprint reports), ``storefront_zones``,
        ``communities`` and ``grid_cells`` (H3 cells of the community grid), the last
        three with the number of exported reports in each; all EPSG:4326.
    """
    layers: dict[str, gpd.GeoDataFrame] = {}
    points = shapely.points(reports["lng"].to_numpy(), reports["lat"].to_numpy())
    layers["reports"] = gpd.GeoDataFrame(table, geometry=points, crs=_CRS)
    shapes = reports.geometry.to_numpy()
    polygonal = np.isin(shapely.get_type_id(shapes), (3, 6))
    footprint = table.loc[
        polygonal, ["id", "external_id", "category", "category_name", "status", "area_m2"]
    ].rename(columns={"id": "report_id"})
    footprint["demolished_m2"] = table.loc[polygonal, "demolished_m2"]
    layers[FOOTPRINT_LAYER] = gpd.GeoDataFrame(
        footprint, geometry=shapely.force_2d(shapes[polygonal]), crs=_CRS
    )

    community_id = None
    if filters.community:
        community_id = frames.resolve_community(engine, filters.community) or -1
    communities = frames.read_communities(engine)
    codes = dict(zip(communities["id"], communities["code"], strict=True))
    zones = frames.read_zones(engine)
    cells = frames.read_grid_cells(engine, community_id=community_id)
    if community_id is not None:
        communities = communities[communities["id"] == community_id]
        zones = zones[zones["community_id"] == community_id]

    zone_ids = reports["zone_id"].dropna().to_numpy(dtype=np.int64)
    zone_table = pd.DataFrame(
        {
            "id": zones["id"].to_numpy(dtype=np.int64),
            "shop_name": zones["shop_name"].to_numpy(dtype=object),
            "business_type": zones["business_type"].to_numpy(dtype=object),
            "address": zones["address"].to_numpy(dtype=object),
            "licence_status": zones["licence_status"].to_numpy(dtype=object),
            "agreement_signed": zones["agreement_signed"].astype(bool).to_numpy(),
            "agreement_signed_at": pd.to_datetime(zones["agreement_signed_at"]).to_numpy(),
            "responsible_person": zones["responsible_person"].to_numpy(dtype=object),
            "responsible_phone": zones["responsible_phone"].to_numpy(dtype=object),
            "community": zones["community_id"].map(codes).to_numpy(dtype=object),
            "area_m2": zones["area_m2"].to_numpy(dtype=np.float64),
            "cell": cells_to_strings(zones["cell"].to_numpy(dtype=np.int64)),
            "reports": _counts(zone_ids, zones["id"].to_numpy(dtype=np.int64)),
        }
    )
    layers["storefront_zones"] = gpd.GeoDataFrame(
        zone_table, geometry=zones.geometry.to_numpy(), crs=_CRS
    )

    community_ids = reports["community_id"].dropna().to_numpy(dtype=np.int64)
    layers["communities"] = gpd.GeoDataFrame(
        {
            "id": communities["id"].to_numpy(dtype=np.int64),
            "code": communities["code"].to_numpy(dtype=object),
            "name": communities["name"].to_numpy(dtype=object),
            "area_m2": communities["area_m2"].to_numpy(dtype=np.float64),
            "reports": _counts(community_ids, communities["id"].to_numpy(dtype=np.int64)),
        },
        geometry=communities.geometry.to_numpy(),
        crs=_CRS,
    )

    grid = cells["cell"].to_numpy(dtype=np.int64)
    report_cells = cell_parents(reports["cell"].to_numpy(dtype=np.int64), GRID_RES)
    layers["grid_cells"] = gpd.GeoDataFrame(
        {
            "cell": cells_to_strings(grid),
            "community": cells["community_id"].map(codes).to_numpy(dtype=object),
            "grid_worker": cells["grid_worker"].to_numpy(dtype=object),
            "reports": _counts(report_cells, grid),
        },
        geometry=cell_boundaries(grid) if len(grid) else [],
        crs=_CRS,
    )
    return layers


def write_gpkg(
    path: Path, layers: dict[str, gpd.GeoDataFrame], *, notice: str | None = None
) -> None:
    """Write layers to a new GeoPackage (replacing ``path`` only once all are written).

    Parameters
    ----------
    path : pathlib.Path
    layers : dict of str to geopandas.GeoDataFrame
        Layer name to features (EPSG:4326); an empty layer keeps its geometry type.
    notice : str, optional
        Stored as the dataset's ``notice`` metadata (demo data).
    """
    partial = path.with_name(f".{path.name}.partial.gpkg")
    partial.unlink(missing_ok=True)
    metadata = {"notice": notice} if notice else None
    try:
        for name, frame in layers.items():
            options = {"geometry_type": _EMPTY_TYPES.get(name, "Unknown")} if frame.empty else {}
            pyogrio.write_dataframe(
                frame,
                partial,
                layer=name,
                driver="GPKG",
                dataset_metadata=metadata,
                **options,
            )
            metadata = None
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
