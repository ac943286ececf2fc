"""Attribution of points to polygons (communities, storefront zones) with bulk STRtree queries."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.crs import to_metric

__all__ = ["attribute_points", "distance_outside", "representative_points"]


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


def distance_outside(points: ArrayLike, area: shapely.Geometry) -> NDArray[np.float64]:
    """Metres from each point to ``area``: 0 inside, the distance to its edge outside.

    Parameters
    ----------
    points : array_like of shapely.Point
        WGS84 points.
    area : shapely.Polygon or shapely.MultiPolygon
        WGS84 area, such as the service area.

    Returns
    -------
    numpy.ndarray of float64
        Measured in the metric CRS (EPSG:4548).
    """
    points = np.asarray(points, dtype=object)
    distance = np.zeros(points.size)
    if points.size == 0:
        return distance
    # Most points are inside: test them in degrees against the prepared area, and
    # project only the few outside ones to measure metres.
    shapely.prepare(area)
    outside = ~shapely.contains_xy(area, shapely.get_x(points), shapely.get_y(points))
    if outside.any():
        distance[outside] = shapely.distance(to_metric(points[outside]), to_metric(area))
    return distance
