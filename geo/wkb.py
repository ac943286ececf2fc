"""Well-known binary for plain points, built with numpy instead of shapely objects."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["points_to_wkb"]

# Little-endian WKB point: byte order (1), geometry type (1 = Point), x, y: 21 bytes.
_POINT = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])


def points_to_wkb(x: ArrayLike, y: ArrayLike) -> NDArray[np.object_]:
    """Encode points as WKB without creating a shapely geometry per point.

    Parameters
    ----------
    x, y : array_like
        Coordinates (longitude, latitude for WGS84).

    Returns
    -------
    numpy.ndarray of bytes
        The same bytes as ``shapely.to_wkb(shapely.points(x, y))``.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    records = np.empty(x.size, dtype=_POINT)
    records["order"] = 1
    records["kind"] = 1
    records["x"] = x
    records["y"] = y
    raw = records.tobytes()
    size = _POINT.itemsize
    out = np.empty(x.size, dtype=object)
    out[:] = [raw[i : i + size] for i in range(0, len(raw), size)]
    return out
