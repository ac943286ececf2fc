"""Hotspot statistics on H3 cells: counts over a study area and Getis-Ord Gi* with FDR.

The pieces are separate so that callers pass the relations in (see
:func:`geo.cells.neighbour_pairs`) and nothing is built behind their back::

    study = study_area_cells(town, res=9)
    counts = counts_per_cell(report_cells, study, res=9)
    i, j = neighbour_pairs(study, k=1, include_self=True)
    table = gi_star(counts, i, j)
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, stats

from geo.cells import cell_parents, cell_resolutions, cells_in_polygon, lookup_cells

__all__ = [
    "GI_COLUMNS",
    "counts_per_cell",
    "gi_bins",
    "gi_star",
    "hull_area",
    "rates",
    "study_area_cells",
]

#: The columns :func:`gi_star` returns, in order.
GI_COLUMNS = ("gi_z", "gi_p", "gi_q", "gi_bin")
# FDR-adjusted p-value thresholds of the ±3, ±2 and ±1 bins (99, 95 and 90% confidence).
_BIN_LEVELS = ((0.01, 3), (0.05, 2), (0.10, 1))


def counts_per_cell(cells: ArrayLike, study_cells: ArrayLike, *, res: int) -> NDArray[np.int64]:
    """Count points per cell of a study area at an analysis resolution.

    Parameters
    ----------
    cells : array_like of int64
        The cell of each report, at ``res`` or finer (the store keeps resolution 12);
        0 (no cell) is ignored.
    study_cells : array_like of int64
        Distinct cells at ``res``: the study area, zero-count cells included.
    res : int
        The analysis resolution.

    Returns
    -------
    numpy.ndarray of int64
        Aligned with ``study_cells``; reports whose parent is not a study cell are not
        counted.

    Raises
    ------
    ValueError
        If a study cell is not at ``res`` or a report cell is coarser than ``res``.

    Examples
    --------
    >>> from geo.cells import cell_parents, cells_from_points
    >>> fine = cells_from_points([116.3, 116.3, 116.4], [39.78, 39.78, 39.78])
    >>> study = cell_parents(fine[:1], 9)
    >>> counts_per_cell(fine, study, res=9).tolist()
    [2]
    """
    cells = np.asarray(cells, dtype=np.int64).ravel()
    study_cells = np.asarray(study_cells, dtype=np.int64).ravel()
    res = operator.index(res)
    if study_cells.size and np.any(cell_resolutions(study_cells) != res):
        raise ValueError(f"study cells must all be at resolution {res}")
    parents = cell_parents(cells[cells != 0], res)
    at = lookup_cells(parents, study_cells, np.arange(study_cells.size))
    return np.bincount(at[at >= 0], minlength=study_cells.size).astype(np.int64)


def rates(counts: ArrayLike, denominators: ArrayLike) -> NDArray[np.float64]:
    """Counts per unit of exposure (km², storefronts), 0 where there is no exposure.

    Parameters
    ----------
    counts : array_like
    denominators : array_like
        Exposure of each cell, such as its area in km² or its number of storefronts;
        broadcast against ``counts``.

    Returns
    -------
    numpy.ndarray of float64
        ``counts / denominators``; 0 where the denominator is 0 or less (a cell
        with no storefronts has no storefront rate, and must not be NaN for Gi*).
    """
    counts = np.asarray(counts, dtype=np.float64)
    denominators = np.asarray(denominators, dtype=np.float64)
    counts, denominators = np.broadcast_arrays(counts, denominators)
    out = np.zeros(counts.shape)
    np.divide(counts, denominators, out=out, where=denominators > 0)
    return out


def gi_bins(z: ArrayLike, q: ArrayLike) -> NDArray[np.int8]:
    """Confidence bins as ArcGIS's Gi_Bin with FDR: ±3, ±2, ±1 at q < 0.01, 0.05, 0.10.

    Parameters
    ----------
    z : array_like
        Gi* z-scores (the sign says hot or cold).
    q : array_like
        FDR-adjusted p-values.

    Returns
    -------
    numpy.ndarray of int8
        -3..3; 0 where not significant at 90%.
    """
    z = np.asarray(z, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    level = np.zeros(q.shape, dtype=np.int8)
    # From the loosest threshold to the strictest, so the strictest that holds wins.
    for threshold, value in reversed(_BIN_LEVELS):
        level[q < threshold] = value
    return (np.sign(z).astype(np.int8) * level).astype(np.int8)


def gi_star(values: ArrayLike, i: ArrayLike, j: ArrayLike) -> pd.DataFrame:
    """Getis-Ord Gi* of each cell with binary weights, two-sided p, BH FDR and bins.

    ``z_i = (Σ_j w_ij x_j − x̄ Σ_j w_ij) / (S √((n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)))``
    with ``x̄`` the mean and ``S = √(Σ x² / n − x̄²)`` over all ``n`` cells (Getis & Ord
    1995; the statistic of ArcGIS's Hot Spot Analysis and of ``esda.G_Local(star=True)``).

    Parameters
    ----------
    values : array_like of float
        One value per cell (counts or rates), zero-count cells included: Gi* compares
        each neighbourhood with the whole study area.
    i, j : array_like of int
        Pairs of positions into ``values`` with weight 1, such as
        ``neighbour_pairs(cells, k=k, include_self=True)``; Gi* wants each cell paired
        with itself. A pair given twice weighs 2.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``values`` (a RangeIndex): ``gi_z``; ``gi_p``, the two-sided
        normal p-value; ``gi_q``, the Benjamini–Hochberg adjusted p-value over all
        cells; ``gi_bin``, -3..3 (see :func:`gi_bins`). Where the statistic is undefined
        (constant values, fewer than two cells, a neighbourhood that is the whole area)
        z is 0, p and q are 1, the bin is 0.

    Raises
    ------
    ValueError
        If a value is not finite or a pair points outside ``values``.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    i = np.asarray(i, dtype=np.int64).ravel()
    j = np.asarray(j, dtype=np.int64).ravel()
    n = x.size
    if not np.all(np.isfinite(x)):
        raise ValueError("Gi* needs finite values; fill missing cells with 0")
    if i.shape != j.shape:
        raise ValueError("i and j must be the same length")
    if i.size and (min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= n):
        raise ValueError("neighbour pairs point outside the values")

    z = np.zeros(n)
    # Constant values (all zeros included) have no spread: every z is 0. Tested on the
    # values, not on S, which rounding can leave a hair above 0.
    if n >= 2 and x.min() != x.max():
        weights = sparse.csr_array((np.ones(i.size), (i, j)), shape=(n, n))
        w_sum = weights.sum(axis=1)
        w_sq_sum = (weights * weights).sum(axis=1)
        lag = weights @ x
        mean = x.mean()
        spread = x.std()  # population S: √(Σx²/n − x̄²), computed stably
        numerator = lag - mean * w_sum
        variance = (n * w_sq_sum - w_sum**2) / (n - 1)
        # A neighbourhood of every cell (or none) has no variance: leave its z at 0.
        defined = variance > 1e-12 * np.maximum(w_sum**2, 1.0)
        z[defined] = numerator[defined] / (spread * np.sqrt(variance[defined]))
    p = 2.0 * stats.norm.sf(np.abs(z))
    q = stats.false_discovery_control(p, method="bh") if n else p.copy()
    return pd.DataFrame(
        {"gi_z": z, "gi_p": p, "gi_q": np.asarray(q, dtype=np.float64), "gi_bin": gi_bins(z, q)}
    )


def study_area_cells(area: shapely.Geometry, *, res: int) -> NDArray[np.int64]:
    """Cells of a study area: those whose centres fall inside it, sorted.

    Parameters
    ----------
    area : shapely.Polygon or shapely.MultiPolygon
        WGS84 (lng, lat). Polygon parts of a collection are used; an empty or
        area-less geometry (a point, a line) gives no cells.
    res : int
        Analysis resolution.

    Returns
    -------
    numpy.ndarray of int64

    Raises
    ------
    ValueError
        If ``area`` has no polygonal part at all and is not empty.
    """
    if area is None or shapely.is_empty(area):
        return np.zeros(0, dtype=np.int64)
    parts = shapely.get_parts(area)
    polygons = [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        if all(p.geom_type in ("Point", "MultiPoint", "LineString", "LinearRing") for p in parts):
            return np.zeros(0, dtype=np.int64)
        raise ValueError(f"a study area must be a polygon, not a {area.geom_type}")
    polygonal = shapely.union_all(polygons)
    if polygonal.area == 0:
        return np.zeros(0, dtype=np.int64)
    return cells_in_polygon(polygonal, res=res)


def hull_area(lng: ArrayLike, lat: ArrayLike) -> shapely.Geometry:
    """The convex hull of points, a study area for reports given without one.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 degrees; non-finite points are left out.

    Returns
    -------
    shapely.Geometry
        A polygon; a line or a point when the points are collinear or one, an empty
        geometry when there are none.
    """
    lng = np.asarray(lng, dtype=np.float64).ravel()
    lat = np.asarray(lat, dtype=np.float64).ravel()
    keep = np.isfinite(lng) & np.isfinite(lat)
    points = shapely.multipoints(np.column_stack([lng[keep], lat[keep]]))
    return shapely.convex_hull(points)
