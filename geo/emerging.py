"""Emerging hot spots: Gi* per time slice, Mann-Kendall trends and the space-time patterns.

The patterns follow the definitions of ArcGIS Pro's Emerging Hot Spot Analysis: a cell is
hot (cold) in a slice when its Gi* z-score is positive (negative) and significant at 90%
after the caller's multiple-testing correction; the trend is the Mann-Kendall test on the
cell's series of z-scores. Everything here is pure computation on arrays: no I/O.
"""

from __future__ import annotations

import datetime as dt
import logging
import operator
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

__all__ = [
    "PATTERNS",
    "classify",
    "emerging_hotspots",
    "mann_kendall",
    "time_slices",
]

log = logging.getLogger(__name__)

Freq = Literal["day", "week", "month"]

#: Every pattern :func:`classify` can return.
PATTERNS = (
    "new hot spot",
    "consecutive hot spot",
    "intensifying hot spot",
    "persistent hot spot",
    "diminishing hot spot",
    "sporadic hot spot",
    "oscillating hot spot",
    "historical hot spot",
    "new cold spot",
    "consecutive cold spot",
    "intensifying cold spot",
    "persistent cold spot",
    "diminishing cold spot",
    "sporadic cold spot",
    "oscillating cold spot",
    "historical cold spot",
    "no pattern",
)

# numpy's day 0, 1970-01-01, was a Thursday, so day 4 was the first Monday: weeks are
# counted from it.
_FIRST_MONDAY = 4


def _day(value: object) -> np.datetime64:
    if isinstance(value, dt.datetime):
        value = value.date()
    return np.datetime64(value, "D")


def time_slices(
    reported_at: ArrayLike,
    *,
    freq: Freq = "week",
    start: dt.date | np.datetime64 | str | None = None,
    end: dt.date | np.datetime64 | str | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.datetime64]]:
    """Cut report times into consecutive calendar slices.

    Parameters
    ----------
    reported_at : array_like of datetime64
        Report times (any unit; NaT allowed). Local time: slices are cut at midnight.
    freq : {"week", "day", "month"}, default "week"
        Slice length; weeks start on Monday, months on the 1st.
    start, end : date, numpy.datetime64 or str, optional
        First and last day counted, both included; default the first and last report day.
        The first and last slices are the ones holding these days, so they may be partial.

    Returns
    -------
    index : numpy.ndarray of int64
        Slice of each report, aligned with ``reported_at``; -1 for NaT and for reports
        outside ``start``..``end``.
    edges : numpy.ndarray of datetime64[D]
        ``n_slices + 1`` slice boundaries: slice ``s`` covers ``edges[s]`` up to, not
        including, ``edges[s + 1]``.

    Raises
    ------
    ValueError
        On an unknown ``freq`` or ``end`` before ``start``.

    Examples
    --------
    >>> times = np.array(["2026-11-16T08:00", "2026-11-22T23:00", "2026-11-23"], "M8[m]")
    >>> index, edges = time_slices(times)
    >>> index.tolist(), edges.astype(str).tolist()
    ([0, 0, 1], ['2026-11-16', '2026-11-23', '2026-11-30'])
    """
    if freq not in ("day", "week", "month"):
        raise ValueError(f"freq must be 'day', 'week' or 'month', got {freq!r}")
    times = np.asarray(reported_at)
    if times.dtype.kind != "M":
        times = times.astype("datetime64[ns]")
    days = times.astype("datetime64[D]")
    valid = ~np.isnat(days)
    if start is None or end is None:
        if not valid.any():
            return np.full(days.shape, -1, dtype=np.int64), np.zeros(0, dtype="datetime64[D]")
        first_day, last_day = days[valid].min(), days[valid].max()
    first = first_day if start is None else _day(start)
    last = last_day if end is None else _day(end)
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    inside = valid & (days >= first) & (days <= last)

    def starts(d: NDArray[np.datetime64]) -> NDArray[np.int64]:
        # slice start of each day, as a count of slice units since the epoch
        if freq == "month":
            return d.astype("datetime64[M]").astype(np.int64)
        number = d.astype(np.int64)
        return (number - _FIRST_MONDAY) // 7 if freq == "week" else number

    origin = int(starts(np.array([first]))[0])
    n_slices = int(starts(np.array([last]))[0]) - origin + 1
    index = np.full(days.shape, -1, dtype=np.int64)
    index[inside] = starts(days[inside]) - origin
    units = np.arange(origin, origin + n_slices + 1, dtype=np.int64)
    if freq == "month":
        edges = units.astype("datetime64[M]").astype("datetime64[D]")
    elif freq == "week":
        edges = (units * 7 + _FIRST_MONDAY).astype("datetime64[D]")
    else:
        edges = units.astype("datetime64[D]")
    return index, edges


def _tie_counts(series: NDArray[np.float64]) -> NDArray[np.int64]:
    """Sizes of the groups of equal values in each row, zero-padded to the row length."""
    n_rows, n = series.shape
    ordered = np.sort(series, axis=1)
    new_group = np.ones(ordered.shape, dtype=bool)
    new_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(new_group, axis=1) - 1 + (np.arange(n_rows) * n)[:, None]
    return np.bincount(group.ravel(), minlength=n_rows * n).reshape(n_rows, n)


def mann_kendall(series: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mann-Kendall trend test of every row at once.

    ``S = Σ_{a<b} sign(x_b − x_a)`` over the pairs of slices, its variance corrected for
    ties, ``Var S = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18`` (``t`` the size of each group of
    equal values), and the normal approximation without continuity correction,
    ``Z = S / √Var S``, two-sided. The tau reported is Kendall's tau-b between the values
    and time, ``S / √((n₀ − n₁) n₀)`` with ``n₀ = n(n−1)/2`` and ``n₁ = Σ t(t−1)/2``: the
    same tau and p as ``scipy.stats.kendalltau(time, x, method="asymptotic")``.

    Parameters
    ----------
    series : array_like, shape (cells, slices)
        One series a row, in time order; finite values.

    Returns
    -------
    tau : numpy.ndarray of float64, shape (cells,)
        Kendall's tau-b, in [-1, 1]; 0 for a constant row or fewer than 2 slices.
    p : numpy.ndarray of float64, shape (cells,)
        Two-sided p-value of no trend; 1 for a constant row or fewer than 2 slices.

    Raises
    ------
    ValueError
        If ``series`` is not 2-D or holds NaN or infinite values.

    Examples
    --------
    >>> tau, p = mann_kendall([[1, 2, 3, 4, 5, 6], [3, 3, 3, 3, 3, 3]])
    >>> tau.tolist(), (p < 0.01).tolist()
    ([1.0, 0.0], [True, False])
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"series must be 2-D (cells × slices), got {x.ndim}-D")
    if not np.isfinite(x).all():
        raise ValueError("series holds NaN or infinite values")
    n_rows, n = x.shape
    tau, p = np.zeros(n_rows), np.ones(n_rows)
    if n < 2 or n_rows == 0:
        return tau, p
    # One pass per earlier slice: (cells × later slices) comparisons, O(n²) in all but
    # never an (cells × n × n) array.
    s = np.zeros(n_rows, dtype=np.int64)
    for a in range(n - 1):
        later = x[:, a + 1 :]
        earlier = x[:, a : a + 1]
        s += np.count_nonzero(later > earlier, axis=1) - np.count_nonzero(later < earlier, axis=1)
    ties = _tie_counts(x)
    n0 = n * (n - 1) / 2
    n1 = (ties * (ties - 1)).sum(axis=1) / 2
    var = (n * (n - 1) * (2 * n + 5) - (ties * (ties - 1) * (2 * ties + 5)).sum(axis=1)) / 18
    moving = var > 0  # a constant row has no pairs to order: tau 0, p 1
    z = s[moving] / np.sqrt(var[moving])
    p[moving] = 2 * ndtr(-np.abs(z))
    tau[moving] = s[moving] / np.sqrt((n0 - n1[moving]) * n0)
    return np.clip(tau, -1.0, 1.0), np.minimum(p, 1.0)


def _final_run(flags: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Length of the run of True that ends each row."""
    n = flags.shape[1]
    off = ~flags[:, ::-1]
    return np.where(off.any(axis=1), np.argmax(off, axis=1), n)


def _one_side(
    spot: NDArray[np.bool_],
    other: NDArray[np.bool_],
    rising: NDArray[np.bool_],
    falling: NDArray[np.bool_],
    kind: str,
    out: NDArray[np.object_],
) -> None:
    """Fill ``out`` with the patterns of one side (hot or cold) where they apply."""
    n = spot.shape[1]
    count = spot.sum(axis=1)
    final = spot[:, -1]
    run = _final_run(spot)
    # "at least 90%" in integers, so 47 of 52 is in and 46 is out without rounding doubts
    most = 10 * count >= 9 * n
    most_earlier = (n >= 2) & (10 * (count - final) >= 9 * (n - 1))
    free = out == "no pattern"
    rules = [
        (final & (count == 1), "new"),
        (final & (run == count) & (run >= 2) & ~most, "consecutive"),
        (final & most & rising, "intensifying"),
        (final & most & falling, "diminishing"),
        (final & most & ~rising & ~falling, "persistent"),
        (final & ~most & other.any(axis=1), "oscillating"),
        (final & ~most & ~other.any(axis=1), "sporadic"),
        (~final & ~other[:, -1] & most_earlier, "historical"),
    ]
    for where, name in rules:
        chosen = free & where
        out[chosen] = f"{name} {kind} spot"
        free &= ~chosen


def classify(
    z: ArrayLike,
    significant: ArrayLike,
    tau: ArrayLike,
    tau_p: ArrayLike,
    *,
    alpha: float = 0.10,
) -> NDArray[np.object_]:
    """Name the space-time pattern of every cell, after ArcGIS's Emerging Hot Spot Analysis.

    A cell is *hot* in a slice when ``significant`` and ``z > 0`` there, *cold* when
    ``significant`` and ``z < 0``; ``n`` is the number of slices and "at least 90%" means
    ``10 · count ≥ 9 · n``. The trend is *up* when ``tau > 0`` and ``tau_p < alpha``,
    *down* when ``tau < 0`` and ``tau_p < alpha``. The first rule that holds wins:

    new hot spot
        Hot in the final slice and in no earlier one.
    consecutive hot spot
        Hot in an unbroken run of at least two final slices, never hot before the run,
        and hot in fewer than 90% of the slices.
    intensifying hot spot
        Hot in at least 90% of the slices, the final one included, with an up trend.
    diminishing hot spot
        Hot in at least 90% of the slices, the final one included, with a down trend.
    persistent hot spot
        Hot in at least 90% of the slices, the final one included, with no significant
        trend.
    oscillating hot spot
        Hot in the final slice, hot in fewer than 90% of the slices, and cold in some
        earlier slice.
    sporadic hot spot
        Hot in the final slice, hot on and off before (in fewer than 90% of the slices,
        not as one final run) and never cold.
    historical hot spot
        Neither hot nor cold in the final slice, but hot in at least 90% of the earlier
        slices.
    ... cold spot
        The mirror of each rule with hot and cold swapped and the trend reversed: an
        intensifying cold spot has a down trend (its z-scores fall further below zero), a
        diminishing cold spot an up trend.
    no pattern
        None of the above.

    The state of the final slice decides the side: a cell cold in the final slice gets a
    cold-spot pattern however hot it was before (a long-hot cell turning cold is a new
    cold spot, not a historical hot spot).

    Parameters
    ----------
    z : array_like of float, shape (cells, slices)
        Gi* z-scores, slices in time order.
    significant : array_like of bool, shape (cells, slices)
        Whether each z-score is significant at 90%, with whatever false-discovery-rate
        correction the caller chose (Gi* bins of ±1 or more after FDR).
    tau, tau_p : array_like of float, shape (cells,)
        Mann-Kendall trend of each cell's z-scores and its p-value (:func:`mann_kendall`).
    alpha : float, default 0.10
        Significance level of the trend (90% confidence).

    Returns
    -------
    numpy.ndarray of str, shape (cells,)
        One of :data:`PATTERNS` per cell.

    Raises
    ------
    ValueError
        If the shapes do not agree.

    Examples
    --------
    >>> z = [[0.1, 0.2, 3.0], [2.0, -2.0, 2.5]]
    >>> sig = [[False, False, True], [True, True, True]]
    >>> classify(z, sig, [0.8, 0.3], [0.3, 0.5]).tolist()
    ['new hot spot', 'oscillating hot spot']
    """
    z = np.asarray(z, dtype=np.float64)
    significant = np.asarray(significant, dtype=bool)
    tau = np.asarray(tau, dtype=np.float64)
    tau_p = np.asarray(tau_p, dtype=np.float64)
    if z.ndim != 2 or significant.shape != z.shape:
        raise ValueError(
            f"z and significant must be 2-D of one shape, got {z.shape} and {significant.shape}"
        )
    if tau.shape != (z.shape[0],) or tau_p.shape != tau.shape:
        raise ValueError(f"tau and tau_p must have shape ({z.shape[0]},)")
    out = np.full(z.shape[0], "no pattern", dtype=object)
    if z.shape[1] == 0:
        return out
    hot = significant & (z > 0)
    cold = significant & (z < 0)
    trending = tau_p < alpha
    up, down = trending & (tau > 0), trending & (tau < 0)
    _one_side(hot, cold, up, down, "hot", out)
    _one_side(cold, hot, down, up, "cold", out)
    return out


def emerging_hotspots(
    cells_res12: ArrayLike,
    reported_at: ArrayLike,
    *,
    study_cells: ArrayLike,
    res: int,
    k: int = 1,
    freq: Freq = "week",
    start: dt.date | np.datetime64 | str | None = None,
    end: dt.date | np.datetime64 | str | None = None,
    alpha: float = 0.10,
) -> pd.DataFrame:
    """Emerging hot spot analysis of report counts on H3 cells.

    Counts the reports of every study cell in every time slice, runs Getis-Ord Gi*
    (binary k-ring weights, self included, FDR-corrected bins) on each slice, tests each
    cell's series of z-scores for a trend with Mann-Kendall, and names the pattern
    (:func:`classify`; hot or cold means a Gi* bin of +1 or more, -1 or less).

    Parameters
    ----------
    cells_res12 : array_like of int64
        H3 cell of each report at resolution ``res`` or finer (the stored resolution 12);
        0 for none.
    reported_at : array_like of datetime64
        Time of each report, aligned with ``cells_res12``.
    study_cells : array_like of int64
        Distinct cells at ``res`` making up the study area, zero-count cells included;
        reports outside them are left out.
    res : int
        Analysis resolution.
    k : int, default 1
        Grid distance of the Gi* neighbourhood.
    freq : {"week", "day", "month"}, default "week"
        Slice length (:func:`time_slices`).
    start, end : date, optional
        First and last day analysed; default the first and last report day.
    alpha : float, default 0.10
        Significance level of the Mann-Kendall trend.

    Returns
    -------
    pandas.DataFrame
        One row per study cell, in ``study_cells`` order: cell (H3 string), pattern,
        tau, tau_p, slices_hot (slices in which the cell is a hot spot), slices.
    """
    from geo.cells import cells_to_strings, neighbour_pairs
    from geo.hotspots import gi_star

    res = operator.index(res)
    study = np.asarray(study_cells, dtype=np.int64).ravel()
    counts, n_slices = _slice_counts(
        cells_res12, reported_at, study, res=res, freq=freq, start=start, end=end
    )
    i, j = neighbour_pairs(study, k=k)
    z = np.zeros(counts.shape)
    bins = np.zeros(counts.shape, dtype=np.int64)
    for s in range(n_slices):
        # a slice without reports has no spread: gi_star gives z 0 and bin 0 there
        gi = gi_star(counts[:, s], i, j)
        z[:, s] = gi["gi_z"].to_numpy()
        bins[:, s] = gi["gi_bin"].to_numpy()
    tau, tau_p = mann_kendall(z)
    pattern = classify(z, bins != 0, tau, tau_p, alpha=alpha)
    return pd.DataFrame(
        {
            "cell": cells_to_strings(study),
            "pattern": pattern,
            "tau": tau,
            "tau_p": tau_p,
            "slices_hot": (bins > 0).sum(axis=1).astype(np.int64),
            "slices": np.full(study.size, n_slices, dtype=np.int64),
        }
    )


def _slice_counts(
    cells: ArrayLike,
    reported_at: ArrayLike,
    study: NDArray[np.int64],
    *,
    res: int,
    freq: Freq,
    start: dt.date | np.datetime64 | str | None,
    end: dt.date | np.datetime64 | str | None,
) -> tuple[NDArray[np.int64], int]:
    """Reports per study cell (rows) and time slice (columns)."""
    from geo.cells import cell_parents, lookup_cells

    cells = np.asarray(cells, dtype=np.int64).ravel()
    index, edges = time_slices(reported_at, freq=freq, start=start, end=end)
    n_slices = max(edges.size - 1, 0)
    if index.shape != cells.shape:
        raise ValueError(
            f"cells_res12 and reported_at differ in length: {cells.size} and {index.size}"
        )
    parents = cell_parents(cells, res)
    row = lookup_cells(parents, study, np.arange(study.size))
    keep = (row >= 0) & (index >= 0)
    flat = np.bincount(row[keep] * n_slices + index[keep], minlength=study.size * n_slices)
    return flat.reshape(study.size, n_slices), n_slices
