"""H3 cells as signed 64-bit integers: indexing, parents by bit arithmetic, polygons."""

from __future__ import annotations

import h3
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "GRID_RES",
    "STORED_RES",
    "cell_boundaries",
    "cell_centers",
    "cell_parents",
    "cell_resolutions",
    "cells_from_points",
    "cells_from_strings",
    "cells_in_polygon",
    "cells_to_strings",
]

#: The finest resolution stored with every report (about 307 m² a cell).
STORED_RES = 12
#: The community grid resolution (about 15,000 m², close to a 万米单元网格).
GRID_RES = 10

# H3 index layout: 4 resolution bits at 52..55, then fifteen 3-bit digits, the
# digit of resolution r at bits 3 * (15 - r); unused finer digits are all ones.
_RES_SHIFT = 52
_RES_MASK = np.int64(0xF << _RES_SHIFT)


def _as_int64(cells: ArrayLike) -> NDArray[np.int64]:
    return np.asarray(cells, dtype=np.int64)


def cells_from_points(
    lng: ArrayLike, lat: ArrayLike, *, res: int = STORED_RES
) -> NDArray[np.int64]:
    """Index points into H3 cells.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 longitudes and latitudes in degrees.
    res : int, default 12
        H3 resolution.

    Returns
    -------
    numpy.ndarray of int64
        H3 indexes reinterpreted as signed 64-bit integers (they fit: the top bit is 0).
    """
    lng = np.asarray(lng, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    to_cell = h3.api.basic_int.latlng_to_cell
    return np.fromiter(
        (to_cell(y, x, res) for x, y in zip(lng.tolist(), lat.tolist(), strict=True)),
        dtype=np.int64,
        count=lng.size,
    )


def cell_resolutions(cells: ArrayLike) -> NDArray[np.int64]:
    """Read the resolution field of H3 indexes.

    Parameters
    ----------
    cells : array_like of int64

    Returns
    -------
    numpy.ndarray of int64
    """
    return (_as_int64(cells) & _RES_MASK) >> _RES_SHIFT


def cell_parents(cells: ArrayLike, res: int) -> NDArray[np.int64]:
    """Coarsen H3 cells to their parents at ``res`` with bit arithmetic.

    Parameters
    ----------
    cells : array_like of int64
        Cells at resolution ``res`` or finer.
    res : int
        Target resolution, 0 to 15.

    Returns
    -------
    numpy.ndarray of int64
        Same as ``h3.cell_to_parent`` cell by cell, without a Python call per cell.

    Raises
    ------
    ValueError
        If a cell is coarser than ``res``.
    """
    cells = _as_int64(cells)
    if not 0 <= res <= 15:
        raise ValueError(f"H3 resolution must be 0..15, got {res}")
    if cells.size and cell_resolutions(cells).min() < res:
        raise ValueError(f"cannot take parents at resolution {res} of coarser cells")
    unused_digits = np.int64((1 << (3 * (15 - res))) - 1)
    return (cells & ~_RES_MASK) | np.int64(res << _RES_SHIFT) | unused_digits


def cells_to_strings(cells: ArrayLike) -> NDArray[np.object_]:
    """Format H3 integers as the usual hexadecimal strings.

    Parameters
    ----------
    cells : array_like of int64

    Returns
    -------
    numpy.ndarray of str
    """
    return np.array([format(c, "x") for c in _as_int64(cells).tolist()], dtype=object)


def cells_from_strings(strings: ArrayLike) -> NDArray[np.int64]:
    """Parse hexadecimal H3 strings into signed 64-bit integers.

    Parameters
    ----------
    strings : array_like of str

    Returns
    -------
    numpy.ndarray of int64
    """
    return np.array([int(s, 16) for s in np.asarray(strings, dtype=object)], dtype=np.int64)


def cell_centers(cells: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Centres of H3 cells.

    Parameters
    ----------
    cells : array_like of int64

    Returns
    -------
    tuple of numpy.ndarray
        Longitudes and latitudes.
    """
    latlng = [h3.api.basic_int.cell_to_latlng(c) for c in _as_int64(cells).tolist()]
    arr = np.array(latlng, dtype=np.float64).reshape(-1, 2)
    return arr[:, 1], arr[:, 0]


def cell_boundaries(cells: ArrayLike) -> NDArray[np.object_]:
    """Cell outlines as shapely polygons in WGS84 (lng, lat).

    Parameters
    ----------
    cells : array_like of int64

    Returns
    -------
    numpy.ndarray of shapely.Polygon
    """
    rings = [
        [(lng, lat) for lat, lng in h3.api.basic_int.cell_to_boundary(c)]
        for c in _as_int64(cells).tolist()
    ]
    return shapely.polygons(rings) if rings else np.empty(0, dtype=object)


def cells_in_polygon(polygon: shapely.Geometry, *, res: int) -> NDArray[np.int64]:
    """Cells whose centres fall inside a (multi)polygon, sorted.

    Parameters
    ----------
    polygon : shapely.Polygon or shapely.MultiPolygon
        Area in WGS84 (lng, lat).
    res : int
        H3 resolution.

    Returns
    -------
    numpy.ndarray of int64
    """
    shape = h3.geo_to_h3shape(shapely.geometry.mapping(polygon))
    cells = h3.h3shape_to_cells(shape, res)
    return np.sort(np.array([h3.str_to_int(c) for c in cells], dtype=np.int64))
