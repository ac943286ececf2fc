"""Attribution of points to polygons (communities, storefront zones) with bulk STRtree queries."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.cells import cell_parents, cell_resolutions, lookup_cells
from geo.crs import to_metric

__all__ = [
    "attribute_points",
    "communities_of_points",
    "distance_outside",
    "representative_points",
    "zones_of_points",
]


def representative_points(geometries: ArrayLike) -> NDArray[np.object_]:
    """The point a report is indexed by: the point itself, or a point inside a footprint.

    Parameters
    ----------
    geometries : array_like of shapely geometries

    Returns
    -------
    numpy.ndarray of shapely.Point
    """
    geometries = np.asarray(geometries, dtype=object)
    is_point = shapely.get_type_id(geometries) == 0
    out = geometries.copy()
    if (~is_point).any():
        out[~is_point] = shapely.point_on_surface(geometries[~is_point])
    return out


def attribute_points(points: ArrayLike, polygons: ArrayLike) -> NDArray[np.int64]:
    """Position of the polygon each point falls in, or -1 where none does.

    Parameters
    ----------
    points : array_like of shapely.Point
        Points in the same CRS as ``polygons``.
    polygons : array_like of shapely polygons
        Polygons that should not overlap; where they do, the lowest position wins.

    Returns
    -------
    numpy.ndarray of int64
        One entry per point, aligned with ``points``.
    """
    points = np.asarray(points, dtype=object)
    polygons = np.asarray(polygons, dtype=object)
    result = np.full(points.size, -1, dtype=np.int64)
    if points.size == 0 or polygons.size == 0:
        return result
    tree = shapely.STRtree(polygons)
    point_idx, polygon_idx = tree.query(points, predicate="intersects")
    # Reverse so that the lowest polygon position is written last and wins.
    order = np.lexsort((-polygon_idx, point_idx))
    result[point_idx[order]] = polygon_idx[order]
    return result


def distance_outside(lng: ArrayLike, lat: ArrayLike, area: shapely.Geometry) -> NDArray[np.float64]:
    """Metres from each point to ``area``: 0 inside, the distance to its edge outside.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 coordinates of the points.
    area : shapely.Polygon or shapely.MultiPolygon
        WGS84 area, such as the service area.

    Returns
    -------
    numpy.ndarray of float64
        Measured in the metric CRS (EPSG:4548).
    """
    lng = np.asarray(lng, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    distance = np.zeros(lng.shape)
    if lng.size == 0:
        return distance
    # Most points are inside: test them in degrees against the prepared area, and
    # build and project only the few outside ones to measure metres.
    shapely.prepare(area)
    outside = ~shapely.contains_xy(area, lng, lat)
    if outside.any():
        points = to_metric(shapely.points(lng[outside], lat[outside]))
        distance[outside] = shapely.distance(points, to_metric(area))
    return distance


def communities_of_points(
    lng: ArrayLike,
    lat: ArrayLike,
    cells: ArrayLike,
    *,
    grid_cells: ArrayLike,
    grid_owners: ArrayLike,
    communities: ArrayLike,
    community_ids: ArrayLike,
) -> NDArray[np.int64]:
    """The community of each point: the owner of its grid cell, else the polygon it is in.

    A community is the set of grid cells whose centres fall inside its polygon, so a
    point goes to the community that owns its grid cell; this keeps a community's
    reports and its cells the same set. Points in cells that no community owns (at
    the edge of the service area) fall back to the polygon that contains them.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 coordinates.
    cells : array_like of int64
        Each point's H3 cell at a resolution at least as fine as the grid's.
    grid_cells, grid_owners : array_like of int64
        The grid: its cells (all at one resolution) and the id of each cell's community.
    communities : array_like of shapely polygons
        The community polygons, for the fallback.
    community_ids : array_like of int
        The id of each polygon.

    Returns
    -------
    numpy.ndarray of int64
        Community id of each point, -1 where none.
    """
    grid_cells = np.asarray(grid_cells, dtype=np.int64)
    owners = np.full(np.shape(cells), -1, dtype=np.int64)
    if grid_cells.size:
        grid_res = int(cell_resolutions(grid_cells[:1])[0])
        valid = np.asarray(cells, dtype=np.int64) != 0
        owners[valid] = lookup_cells(
            cell_parents(np.asarray(cells)[valid], grid_res), grid_cells, grid_owners
        )
    orphan = np.flatnonzero(owners < 0)
    if orphan.size and np.size(communities):
        lng, lat = np.asarray(lng, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        position = attribute_points(shapely.points(lng[orphan], lat[orphan]), communities)
        ids = np.asarray(community_ids, dtype=np.int64)
        owners[orphan] = np.where(position >= 0, ids[np.maximum(position, 0)], -1)
    return owners


def _near_bounds(lng: np.ndarray, lat: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Flag points inside any of many small boxes with a coarse grid hash, no geometry."""
    minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
    maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
    # Cell size: the largest box, so that each box touches at most 2 x 2 grid cells.
    size = max(float(np.max(bounds[:, 2:] - bounds[:, :2])), 1e-9)
    nx = int((maxx - minx) // size) + 2
    ny = int((maxy - miny) // size) + 2
    occupied = np.zeros((nx, ny), dtype=bool)
    x0 = ((bounds[:, 0] - minx) // size).astype(np.int64)
    y0 = ((bounds[:, 1] - miny) // size).astype(np.int64)
    x1 = ((bounds[:, 2] - minx) // size).astype(np.int64)
    y1 = ((bounds[:, 3] - miny) // size).astype(np.int64)
    for dx in (0, 1):
        for dy in (0, 1):
            occupied[np.minimum(x0 + dx, x1), np.minimum(y0 + dy, y1)] = True
    inside = (lng >= minx) & (lng <= maxx) & (lat >= miny) & (lat <= maxy)
    near = np.zeros(lng.shape, dtype=bool)
    gx = ((lng[inside] - minx) // size).astype(np.int64)
    gy = ((lat[inside] - miny) // size).astype(np.int64)
    near[inside] = occupied[gx, gy]
    return near


def zones_of_points(
    lng: ArrayLike,
    lat: ArrayLike,
    *,
    zones: ArrayLike,
    zone_ids: ArrayLike,
) -> NDArray[np.int64]:
    """The storefront zone each point falls in, building geometry only for points near one.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 coordinates.
    zones : array_like of shapely polygons
        Small polygons, such as 门前三包 responsibility zones.
    zone_ids : array_like of int
        The id of each zone.

    Returns
    -------
    numpy.ndarray of int64
        Zone id of each point, -1 where none.
    """
    lng = np.asarray(lng, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    out = np.full(lng.shape, -1, dtype=np.int64)
    zones = np.asarray(zones, dtype=object)
    if not zones.size or not lng.size:
        return out
    # A million shapely points cost more than the whole search: first keep the points
    # that fall in a grid square some zone's bounding box touches.
    candidate = np.flatnonzero(
        _near_bounds(lng, lat, shapely.bounds(zones)) & np.isfinite(lng) & np.isfinite(lat)
    )
    if candidate.size:
        position = attribute_points(shapely.points(lng[candidate], lat[candidate]), zones)
        ids = np.asarray(zone_ids, dtype=np.int64)
        out[candidate] = np.where(position >= 0, ids[np.maximum(position, 0)], -1)
    return out
