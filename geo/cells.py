"""H3 cells as signed 64-bit integers: indexing, parents by bit arithmetic, polygons."""

from __future__ import annotations

import math
import operator

import h3
import numpy as np
import pyarrow as pa
import shapely
from h3ronpy import grid_disk
from h3ronpy.vector import coordinates_to_cells
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "GRID_RES",
    "MAX_DRAW_RES",
    "MIN_DRAW_RES",
    "STORED_RES",
    "as_cells",
    "cell_boundaries",
    "cell_centers",
    "cell_parents",
    "cell_resolutions",
    "cells_from_points",
    "cells_from_strings",
    "cells_in_polygon",
    "cells_to_strings",
    "child_ranges",
    "lookup_cells",
    "neighbour_pairs",
    "resolution_for_zoom",
]

#: The finest resolution stored with every report (about 307 m² a cell).
STORED_RES = 12
#: The community grid resolution (about 15,000 m², close to a 万米单元网格).
GRID_RES = 10
#: Coarsest and finest resolutions :func:`resolution_for_zoom` returns.
MIN_DRAW_RES = 6
MAX_DRAW_RES = STORED_RES

# H3 index layout: 4 resolution bits at 52..55, then fifteen 3-bit digits, the
# digit of resolution r at bits 3 * (15 - r); unused finer digits are all ones.
_RES_SHIFT = 52
_RES_MASK = np.int64(0xF << _RES_SHIFT)


def _as_int64(cells: ArrayLike) -> NDArray[np.int64]:
    return np.asarray(cells, dtype=np.int64)


def _check_res(res: int) -> int:
    res = operator.index(res)
    if not 0 <= res <= 15:
        raise ValueError(f"H3 resolution must be 0..15, got {res}")
    return res


def cells_from_points(
    lng: ArrayLike, lat: ArrayLike, *, res: int = STORED_RES
) -> NDArray[np.int64]:
    """Index points into H3 cells.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 longitudes and latitudes in degrees; broadcast against each other.
    res : int, default 12
        H3 resolution.

    Returns
    -------
    numpy.ndarray of int64
        H3 indexes reinterpreted as signed 64-bit integers (they fit: the top bit is 0),
        in the broadcast shape; 0, which is no H3 index, where either coordinate is
        NaN or infinite.
    """
    res = _check_res(res)
    lng, lat = np.broadcast_arrays(
        np.asarray(lng, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    finite = (np.isfinite(lng) & np.isfinite(lat)).ravel()
    out = np.zeros(lng.size, dtype=np.int64)
    if finite.any():
        # h3ronpy indexes whole arrays in Rust; h3-py would take one Python call a point.
        # Non-finite coordinates are kept out of it and stay 0.
        found = coordinates_to_cells(lat.ravel()[finite], lng.ravel()[finite], res)
        out[finite] = np.asarray(found).view(np.int64)
    return out.reshape(lng.shape)


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
        Same as ``h3.cell_to_parent`` cell by cell, without a Python call per cell;
        0 (the "no cell" of :func:`cells_from_points`) stays 0.

    Raises
    ------
    ValueError
        If a cell is coarser than ``res``.
    """
    cells = _as_int64(cells)
    res = _check_res(res)
    present = cells != 0
    coarser = present & (cell_resolutions(cells) < res)
    if np.any(coarser):
        example = format(int(cells[coarser].flat[0]), "x")
        raise ValueError(f"cannot take parents at resolution {res} of coarser cells ({example})")
    # Set the resolution field, then fill the digits finer than res with 7 ("unused").
    unused_digits = np.int64((1 << (3 * (15 - res))) - 1)
    parents = (cells & ~_RES_MASK) | np.int64(res << _RES_SHIFT) | unused_digits
    return np.where(present, parents, np.int64(0))


def child_ranges(cells: ArrayLike, res: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The integer ranges that hold the descendants of H3 cells at a finer resolution.

    Every valid cell at ``res`` between ``low[i]`` and ``high[i]`` (inclusive) is a
    descendant of ``cells[i]`` and every descendant is in that range: the range runs
    from the digits 0…0 to 6…6, and the cells in between with a digit 7 do not exist.
    A range query on an indexed cell column therefore selects a cell's reports.

    Parameters
    ----------
    cells : array_like of int64
        Cells at resolution ``res`` or coarser, all of one resolution.
    res : int
        Resolution of the descendants (e.g. ``STORED_RES``).

    Returns
    -------
    low, high : numpy.ndarray of int64
    """
    cells = _as_int64(cells)
    res = _check_res(res)
    if cells.size == 0:
        return cells.copy(), cells.copy()
    parent_res = cell_resolutions(cells)
    if np.any(parent_res > res):
        raise ValueError(f"cells finer than resolution {res} have no descendants there")
    # the digits between the parent's resolution and res: cleared for low, 6 for high
    below_parent = (np.int64(1) << (3 * (15 - parent_res))) - 1
    below_res = np.int64((1 << (3 * (15 - res))) - 1)
    between = below_parent & ~below_res
    low = ((cells & ~_RES_MASK) | np.int64(res << _RES_SHIFT)) & ~between
    sixes = np.int64(int("6" * 15, 8))
    return low, low | (between & sixes)


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


def as_cells(cells: ArrayLike) -> NDArray[np.int64]:
    """H3 cells as a flat int64 array, from integers or hexadecimal strings.

    Parameters
    ----------
    cells : array_like of int64 or str

    Returns
    -------
    numpy.ndarray of int64
    """
    values = np.asarray(cells)
    if values.dtype.kind in "OUS":
        return cells_from_strings(values.ravel())
    return values.astype(np.int64).ravel()


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
    cells = _as_int64(cells)
    rings = [
        [(lng, lat) for lat, lng in h3.api.basic_int.cell_to_boundary(cell)]
        for cell in cells.ravel().tolist()
    ]
    # Pentagons have 5 vertices and cells cut by an icosahedron edge up to 10: the rings
    # are ragged, so build the polygons one vertex count at a time. Cells crossing the
    # antimeridian are not split (none does in China).
    sizes = np.fromiter(map(len, rings), dtype=np.int64, count=len(rings))
    out = np.empty(len(rings), dtype=object)
    for size in np.unique(sizes).tolist():
        at = np.flatnonzero(sizes == size)
        out[at] = shapely.polygons(np.array([rings[i] for i in at.tolist()], dtype=np.float64))
    return out.reshape(cells.shape)


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


# Ground size of one Leaflet/folium pixel at zoom 0 (256-px Web Mercator tiles) at the
# reference latitude 32°N, near the middle of China's population; at 20°N or 45°N a
# hexagon comes out 11% larger or 17% smaller on screen, within the 20-60 px band.
_REFERENCE_LAT = 32.0
_METRES_PER_PX_ZOOM0 = 2 * math.pi * 6378137.0 / 256 * math.cos(math.radians(_REFERENCE_LAT))
_MIN_HEX_PX = 20.0
# The zoom from which a hexagon of each resolution (two edges across) is 20 px wide.
_ZOOM_TO_REACH = {
    res: math.log2(
        _MIN_HEX_PX * _METRES_PER_PX_ZOOM0 / (2.0 * h3.average_hexagon_edge_length(res, unit="m"))
    )
    for res in range(MIN_DRAW_RES, MAX_DRAW_RES + 1)
}


def resolution_for_zoom(zoom: float) -> int:
    """The H3 resolution to draw at a web-map zoom, so a hexagon is about 20-60 px across.

    Picks the finest resolution whose mean hexagon (two edge lengths across, corner
    to corner) is at least 20 px wide at 32°N; successive resolutions differ by a
    factor of √7 ≈ 2.65 and zooms by 2, so the result is 20-53 px wide until the
    clamp. Zoom is Leaflet/folium's (256-px tiles); add 1 to a deck.gl/Mapbox zoom.

    ====  ===  ==========  ====  ===  ==========
    zoom  res  hexagon px  zoom  res  hexagon px
    ====  ===  ==========  ====  ===  ==========
    ≤ 9   6    ≤ 29        14    9    50
    10    7    22          15    10   37
    11    7    43          16    11   28
    12    8    33          17    12   21
    13    9    25          ≥ 18  12   ≥ 43
    ====  ===  ==========  ====  ===  ==========

    Parameters
    ----------
    zoom : float
        Map zoom level; fractional zooms are fine.

    Returns
    -------
    int
        H3 resolution, clamped to 6..12 (:data:`MIN_DRAW_RES`..:data:`MAX_DRAW_RES`).
    """
    zoom = float(zoom)
    if math.isnan(zoom):
        raise ValueError("zoom is NaN")
    # The finest resolution whose threshold zoom has been reached; clamped at both ends.
    reached = [res for res, threshold in _ZOOM_TO_REACH.items() if zoom >= threshold]
    return max(reached, default=MIN_DRAW_RES)


def neighbour_pairs(
    cells: ArrayLike, *, k: int = 1, include_self: bool = True
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Index pairs of cells within grid distance ``k`` of each other, for binary weights.

    ``scipy.sparse.coo_array((np.ones(len(i)), (i, j)), shape=(n, n))`` is then the
    k-ring weights matrix of Getis-Ord Gi* (self included by default, as Gi* wants).

    Parameters
    ----------
    cells : array_like of int64
        Distinct H3 cells, usually all at one resolution (cells at different
        resolutions are never neighbours).
    k : int, default 1
        Grid distance; 1 is the six touching hexagons.
    include_self : bool, default True
        Whether each cell is paired with itself.

    Returns
    -------
    i, j : numpy.ndarray of int64
        Positions into ``cells`` such that ``cells[j]`` is within ``k`` of ``cells[i]``;
        only pairs with both cells in ``cells``; symmetric; sorted by ``i`` then ``j``.

    Raises
    ------
    ValueError
        If ``k`` is negative or ``cells`` holds a cell twice.
    """
    cells = _as_int64(cells).ravel()
    k = operator.index(k)
    if k < 0:
        raise ValueError(f"k must be 0 or more, got {k}")
    order = np.argsort(cells, kind="stable")
    ordered = cells[order]
    if np.any(ordered[1:] == ordered[:-1]):
        raise ValueError("neighbour_pairs needs distinct cells; drop duplicates first")
    # h3ronpy builds every disk in one call (as an Arrow list array); then all lookups at once.
    if cells.size:
        disks = pa.array(grid_disk(cells.view(np.uint64), k))
        sizes = np.diff(np.asarray(disks.offsets))
        found = np.asarray(disks.values).view(np.int64)
    else:
        sizes = np.zeros(0, dtype=np.int64)
        found = np.zeros(0, dtype=np.int64)
    i = np.repeat(np.arange(cells.size, dtype=np.int64), sizes)
    at = np.minimum(np.searchsorted(ordered, found), max(cells.size - 1, 0))
    inside = ordered[at] == found if cells.size else np.zeros(0, dtype=bool)
    i, j = i[inside], order[at[inside]].astype(np.int64)
    if not include_self:
        keep = i != j
        i, j = i[keep], j[keep]
    sort = np.lexsort((j, i))
    return i[sort], j[sort]


def lookup_cells(
    cells: ArrayLike, keys: ArrayLike, values: ArrayLike, *, missing: int = -1
) -> NDArray[np.int64]:
    """Look cells up in a table of (cell, value) pairs with a binary search.

    Parameters
    ----------
    cells : array_like of int64
        The cells to look up.
    keys : array_like of int64
        The table's distinct cells.
    values : array_like of int
        The value of each key, such as the community that owns a grid cell.
    missing : int, default -1
        The value of a cell not in the table.

    Returns
    -------
    numpy.ndarray of int64
        Aligned with ``cells``.
    """
    cells = _as_int64(cells)
    keys = _as_int64(keys)
    values = np.asarray(values, dtype=np.int64)
    out = np.full(cells.shape, missing, dtype=np.int64)
    if keys.size == 0:
        return out
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    at = np.minimum(np.searchsorted(keys, cells), keys.size - 1)
    found = keys[at] == cells
    out[found] = values[at[found]]
    return out
