"""Nearest street of points: one bulk STRtree query in the metric CRS."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.crs import to_metric

__all__ = ["nearest_street_names", "nearest_streets"]


def nearest_streets(
    lng: ArrayLike,
    lat: ArrayLike,
    streets: ArrayLike,
    *,
    max_distance: float | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The street nearest to each point and its distance in metres.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 points; broadcast against each other.
    streets : array_like of shapely geometries
        Street lines in WGS84 (lng, lat); missing or empty ones are never chosen.
    max_distance : float, optional
        Metres beyond which a point gets no street.

    Returns
    -------
    indices : numpy.ndarray of int64
        Position into ``streets`` of the nearest one (one of equally near
        streets); -1 for a non-finite point, with no street or none within
        ``max_distance``.
    distances : numpy.ndarray of float64
        Metres to it (in EPSG:4548); NaN where the index is -1.
    """
    lng, lat = np.broadcast_arrays(
        np.asarray(lng, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    lng, lat = lng.ravel(), lat.ravel()
    indices = np.full(lng.size, -1, dtype=np.int64)
    distances = np.full(lng.size, np.nan)
    lines = np.asarray(streets, dtype=object).ravel()
    usable = np.flatnonzero(~(shapely.is_missing(lines) | shapely.is_empty(lines)))
    finite = np.flatnonzero(np.isfinite(lng) & np.isfinite(lat))
    if usable.size == 0 or finite.size == 0:
        return indices, distances
    tree = shapely.STRtree(to_metric(lines[usable]))
    points = to_metric(shapely.points(lng[finite], lat[finite]))
    (which, nearest), metres = tree.query_nearest(
        points, max_distance=max_distance, return_distance=True, all_matches=False
    )
    indices[finite[which]] = usable[nearest]
    distances[finite[which]] = metres
    return indices, distances


def nearest_street_names(
    lng: ArrayLike,
    lat: ArrayLike,
    streets: ArrayLike,
    names: ArrayLike,
    *,
    max_distance: float | None = None,
) -> NDArray[np.object_]:
    """The name of the street nearest to each point (see :func:`nearest_streets`).

    Parameters
    ----------
    lng, lat : array_like
        WGS84 points.
    streets : array_like of shapely geometries
        Street lines in WGS84.
    names : array_like of str
        The name of each street, aligned with ``streets``.
    max_distance : float, optional
        Metres beyond which a point gets no name.

    Returns
    -------
    numpy.ndarray of object
        A name per point; None where there is no street (see :func:`nearest_streets`).
    """
    names = np.asarray(names, dtype=object).ravel()
    indices, _ = nearest_streets(lng, lat, streets, max_distance=max_distance)
    out = np.full(indices.size, None, dtype=object)
    found = indices >= 0
    out[found] = names[indices[found]]
    return out
