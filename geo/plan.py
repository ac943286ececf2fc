"""Crackdown clusters: connected groups of significant hot cells, and what happens in them.

Enforcement plans concentrated operations (集中执法, 定期定点) on the statistically
significant hotspots of Getis-Ord Gi*. Touching hot cells are one place on the ground,
so they are grouped into clusters (connected components over the cells' one-ring
adjacency) and each cluster is described for the plan: its community, what is reported
there, the storefront zones (门前三包责任区) inside, and when reports happen.

Everything here is pure: arrays and frames in, frames out; no I/O.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import h3
import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components

from geo.cells import (
    as_cells,
    cell_boundaries,
    cell_parents,
    cell_resolutions,
    cells_to_strings,
    neighbour_pairs,
)
from geo.crs import from_metric, to_metric

__all__ = [
    "CLUSTER_COLUMNS",
    "WEEKDAYS_ZH",
    "ClusterProfile",
    "cluster_profile",
    "crackdown_clusters",
    "suggested_window",
]

#: Columns of :func:`crackdown_clusters`, in order.
CLUSTER_COLUMNS = ["cluster", "n_cells", "strength", "max_z", "cells", "lng", "lat", "area_m2"]
#: Weekday names, Monday first (``datetime.weekday()`` order).
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
#: Length of the suggested patrol window, in hours.
WINDOW_HOURS = 2


def crackdown_clusters(
    cells: ArrayLike, gi_bin: ArrayLike, gi_z: ArrayLike, *, min_bin: int = 2
) -> pd.DataFrame:
    """Group significant hot cells into connected clusters, strongest first.

    Cells at ``gi_bin >= min_bin`` (hot at 95% confidence and up by default) are joined
    when they touch (grid distance 1); each connected component is a cluster. Clusters
    are ranked by their strength, the sum of the cells' Gi* z-scores, which grows with
    both how hot and how large a cluster is; ties go to the larger cluster.

    Parameters
    ----------
    cells : array_like of int64 or str
        H3 cells, all at the analysis resolution, each once.
    gi_bin : array_like of int
        Gi* confidence bins (-3..3), aligned with ``cells``.
    gi_z : array_like of float
        Gi* z-scores, aligned with ``cells``.
    min_bin : int, default 2
        Lowest bin that counts as hot: 1, 2 or 3 (90, 95, 99% confidence).

    Returns
    -------
    pandas.DataFrame
        One row per cluster with the columns of :data:`CLUSTER_COLUMNS`: ``cluster``
        (the rank, 1 is the strongest), ``n_cells``, ``strength`` (sum of z), ``max_z``,
        ``cells`` (tuple of H3 strings, sorted), ``lng``/``lat`` (centroid of the
        cluster's outline, WGS84) and ``area_m2`` (sum of the cells' geodesic areas).
        Empty, with these columns, when no cell is hot.

    Raises
    ------
    ValueError
        If the inputs differ in length or ``min_bin`` is not 1, 2 or 3.

    Examples
    --------
    >>> import h3
    >>> a = h3.str_to_int(h3.latlng_to_cell(39.78, 116.30, 9))
    >>> b = h3.str_to_int(h3.grid_ring(h3.int_to_str(a), 1)[0])
    >>> clusters = crackdown_clusters([a, b], [3, 2], [4.0, 2.5])
    >>> clusters[["cluster", "n_cells", "strength"]].to_dict("records")
    [{'cluster': 1, 'n_cells': 2, 'strength': 6.5}]
    """
    cells = as_cells(cells)
    gi_bin = np.asarray(gi_bin, dtype=np.int64).ravel()
    gi_z = np.asarray(gi_z, dtype=np.float64).ravel()
    if not cells.size == gi_bin.size == gi_z.size:
        raise ValueError(
            f"cells, gi_bin and gi_z differ in length ({cells.size}, {gi_bin.size}, {gi_z.size})"
        )
    min_bin = operator.index(min_bin)
    if min_bin not in (1, 2, 3):
        raise ValueError(f"min_bin must be 1, 2 or 3, got {min_bin}")

    hot = np.flatnonzero(gi_bin >= min_bin)
    if hot.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CLUSTER_COLUMNS})
    hot_cells, hot_z = cells[hot], gi_z[hot]
    i, j = neighbour_pairs(hot_cells, k=1, include_self=False)
    graph = scipy.sparse.coo_array((np.ones(i.size), (i, j)), shape=(hot.size, hot.size))
    n, label = connected_components(graph, directed=False)

    strength = np.bincount(label, weights=hot_z, minlength=n)
    size = np.bincount(label, minlength=n)
    # Strongest first; among equals the larger, then the one with the smallest cell
    # (so the order never depends on the input order).
    first_cell = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_cell, label, hot_cells)
    rank_order = np.lexsort((first_cell, -size, -strength))

    areas = np.array([h3.api.basic_int.cell_area(c, unit="m^2") for c in hot_cells.tolist()])
    outlines = to_metric(cell_boundaries(hot_cells))
    rows = []
    for rank, component in enumerate(rank_order.tolist(), start=1):
        members = np.flatnonzero(label == component)
        centre = from_metric(shapely.centroid(shapely.union_all(outlines[members])))
        rows.append(
            {
                "cluster": rank,
                "n_cells": int(members.size),
                "strength": float(strength[component]),
                "max_z": float(hot_z[members].max()),
                "cells": tuple(cells_to_strings(np.sort(hot_cells[members])).tolist()),
                "lng": float(centre.x),
                "lat": float(centre.y),
                "area_m2": float(areas[members].sum()),
            }
        )
    return pd.DataFrame(rows, columns=CLUSTER_COLUMNS)


def suggested_window(reported_at: ArrayLike) -> tuple[int, int, int]:
    """The weekday and two-hour window of the week with the most reports.

    Windows start on any whole hour from 00:00 to 22:00 and stay within the day, so a
    peak from 19:00 to 21:00 is found as such rather than split between two fixed slots.
    Ties go to the earliest weekday, then the earliest hour.

    Parameters
    ----------
    reported_at : array_like of datetime64
        Local report times.

    Returns
    -------
    weekday, hour, count : int
        Weekday (0 is Monday), the window's first hour, and the reports in it;
        ``(-1, -1, 0)`` when there are no reports.
    """
    times = pd.DatetimeIndex(np.asarray(reported_at, dtype="datetime64[ns]"))
    times = times[~times.isna()]
    if times.size == 0:
        return -1, -1, 0
    week = np.zeros((7, 24), dtype=np.int64)
    np.add.at(week, (times.day_of_week.to_numpy(), times.hour.to_numpy()), 1)
    starts = 24 - WINDOW_HOURS + 1
    windows = sum(week[:, h : h + starts] for h in range(WINDOW_HOURS))
    weekday, hour = np.unravel_index(int(np.argmax(windows)), windows.shape)
    return int(weekday), int(hour), int(windows[weekday, hour])


@dataclass(frozen=True)
class ClusterProfile:
    """What happens in one crackdown cluster: where, what, who and when.

    Attributes
    ----------
    n_reports : int
        Reports inside the cluster.
    community : str or None
        The community with the most reports there (ties: the first in sort order).
    categories : pandas.Series
        Reports by category, most first; indexed by category name where the reports
        carry ``category_name``, else by code.
    zones : pandas.DataFrame
        Storefront zones inside the cluster: ``zone_id``, ``shop_name``, ``n_reports``
        (reports attributed to the zone), most reports first.
    hours : numpy.ndarray of int64
        Reports by hour of day, 24 values from 00:00.
    weekdays : numpy.ndarray of int64
        Reports by weekday, 7 values from Monday.
    window_weekday, window_hour : int
        The suggested window: weekday (0 is Monday) and first hour of the two-hour
        window with most reports; -1 when there are no reports.
    window_reports : int
        Reports in that window.
    """

    n_reports: int
    community: str | None
    categories: pd.Series
    zones: pd.DataFrame
    hours: NDArray[np.int64]
    weekdays: NDArray[np.int64]
    window_weekday: int
    window_hour: int
    window_reports: int

    @property
    def window(self) -> str:
        """The suggested window in words, such as ``周五 18:00-20:00``; empty if none."""
        if self.window_weekday < 0:
            return ""
        end = self.window_hour + WINDOW_HOURS
        return f"{WEEKDAYS_ZH[self.window_weekday]} {self.window_hour:02d}:00-{end:02d}:00"


def cluster_profile(
    cluster_cells: ArrayLike, reports: pd.DataFrame, *, zones: pd.DataFrame | None = None
) -> ClusterProfile:
    """Describe a cluster for the crackdown plan from the reports (and zones) in it.

    Parameters
    ----------
    cluster_cells : array_like of int64 or str
        The cluster's H3 cells, all at one resolution (the analysis resolution).
    reports : pandas.DataFrame
        Reports with ``cell`` (H3 int64 at that resolution or finer, such as the stored
        resolution 12) and ``reported_at`` (local time); optionally ``category``,
        ``category_name``, ``community`` and ``zone_id``.
    zones : pandas.DataFrame, optional
        Storefront zones with ``id``, ``shop_name`` and ``cell`` (H3 int64 of the zone,
        at that resolution or finer); a zone is inside when its cell is.

    Returns
    -------
    ClusterProfile

    Raises
    ------
    ValueError
        If the cluster has no cells or mixes resolutions.
    """
    cluster_cells = as_cells(cluster_cells)
    if cluster_cells.size == 0:
        raise ValueError("a cluster needs at least one cell")
    resolutions = np.unique(cell_resolutions(cluster_cells))
    if resolutions.size != 1:
        raise ValueError(f"cluster cells mix resolutions {resolutions.tolist()}")
    res = int(resolutions[0])

    def inside(cells: pd.Series) -> NDArray[np.bool_]:
        return np.isin(cell_parents(cells.to_numpy(dtype=np.int64), res), cluster_cells)

    here = reports.loc[inside(reports["cell"])] if len(reports) else reports
    times = pd.DatetimeIndex(pd.to_datetime(here["reported_at"]))

    community = None
    if "community" in here.columns and here["community"].notna().any():
        counts = here["community"].value_counts()
        community = str(counts.index[counts.to_numpy() == counts.max()].sort_values()[0])

    label = "category_name" if "category_name" in here.columns else "category"
    if label in here.columns:
        categories = here[label].value_counts()
        categories = categories.rename_axis(label).rename("n_reports")
    else:
        categories = pd.Series(dtype=np.int64, name="n_reports")

    zone_table = pd.DataFrame({"zone_id": [], "shop_name": [], "n_reports": []})
    if zones is not None and len(zones):
        within = zones.loc[inside(zones["cell"]), ["id", "shop_name"]]
        if "zone_id" in here.columns:
            per_zone = here["zone_id"].dropna().astype(np.int64).value_counts()
        else:
            per_zone = pd.Series(dtype=np.int64)
        zone_table = pd.DataFrame(
            {
                "zone_id": within["id"].to_numpy(dtype=np.int64),
                "shop_name": within["shop_name"].to_numpy(dtype=object),
                "n_reports": per_zone.reindex(within["id"].to_numpy(), fill_value=0)
                .to_numpy()
                .astype(np.int64),
            }
        )
        zone_table = zone_table.sort_values(
            ["n_reports", "zone_id"], ascending=[False, True], ignore_index=True
        )

    weekday, hour, in_window = suggested_window(times)
    return ClusterProfile(
        n_reports=len(here),
        community=community,
        categories=categories,
        zones=zone_table,
        hours=np.bincount(times.hour.to_numpy(), minlength=24).astype(np.int64),
        weekdays=np.bincount(times.day_of_week.to_numpy(), minlength=7).astype(np.int64),
        window_weekday=weekday,
        window_hour=hour,
        window_reports=in_window,
    )
