"""Relapses (反弹) and duplicates: reports matched to earlier ones nearby in space and time.

A *relapse* is a new report of the same category within ``distance_m`` (default 30 m)
of a report closed within ``window_days`` (default 60) before it. A *duplicate* is a
report of the same category within 20 m and 24 h of a report still open when it came.

Both are found the same way, without a Python loop over reports: points are projected
to metres with a local equirectangular approximation, time is scaled to metres too, and
one KD-tree over (x + category offset, y, t) gives the candidate pairs in a Chebyshev
box; the exact tests (distance at the pair's own latitude, the time rule, the category,
the open rule) are then applied to those pairs as arrays, and the best earlier report
per new report is picked with a sort.

Reports are passed as *frame-like* objects: anything indexable by column name that
gives arrays (a :class:`pandas.DataFrame` or a ``dict`` of arrays), with the columns

``id``
    integer id (a match returns it);
``category``
    category code (any hashable values comparable for equality);
``lng``, ``lat``
    WGS84 degrees;
``reported_at``, ``resolved_at``, ``closed_at``
    ``datetime64`` (``NaT`` where missing);
``status``
    the workflow status (``new`` … ``closed``, ``rejected``).

Which columns each function needs is listed in its docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

__all__ = ["OPEN_STATUSES", "find_duplicates", "find_relapses", "open_until"]

#: Statuses of a report somebody is still working on (待派遣, 已派遣, 整改中).
OPEN_STATUSES = ("new", "dispatched", "in_progress")
#: Finished statuses: without a resolved/closed time such a report never counts as open.
_FINISHED_STATUSES = ("resolved", "closed", "rejected")

_EARTH_RADIUS_M = 6_371_008.8
_NS_PER_S = 1_000_000_000
# Categories are kept apart in one tree by shifting x by this many metres per category:
# far more than the Earth's circumference, so boxes of different categories never meet,
# and still small enough for float64 to keep millimetres.
_CATEGORY_GAP_M = 1.0e8
# Candidate boxes are a little larger than the exact tests, so rounding never loses a pair.
_SLACK = 1.0 + 1e-6

Frame = Mapping[str, Any]


def _column(frame: Frame, name: str) -> np.ndarray:
    try:
        return np.asarray(frame[name])
    except KeyError:
        raise KeyError(f"reports need a {name!r} column") from None


def _times(frame: Frame, name: str) -> NDArray[np.int64]:
    """A datetime column as int64 nanoseconds; NaT stays numpy's NaT value (int64 min)."""
    return _column(frame, name).astype("datetime64[ns]").view(np.int64)


_NAT = np.datetime64("NaT", "ns").view(np.int64)


def open_until(
    status: np.ndarray, resolved_at: np.ndarray, closed_at: np.ndarray
) -> NDArray[np.int64]:
    """When each report stopped being open, as int64 nanoseconds since the epoch.

    The store keeps a report's final status and its resolved/closed times, not its status
    at every moment, so "open at time t" is read from them: a report is open from when it
    was reported until the earlier of ``resolved_at`` and ``closed_at``. A report resolved,
    closed or rejected without either time (a rejected report has none: the store keeps
    no rejection time) never counts as open; any other report without them is still open.
    A report sent back for rework after ``resolved_at`` counts as finished from then on.

    Parameters
    ----------
    status : numpy.ndarray
        Status codes.
    resolved_at, closed_at : numpy.ndarray
        ``datetime64`` with ``NaT`` where missing.

    Returns
    -------
    numpy.ndarray of int64
        Nanoseconds; int64 max for reports still open, int64 min for those never open.
    """
    big = np.iinfo(np.int64).max
    resolved = np.asarray(resolved_at).astype("datetime64[ns]").view(np.int64)
    closed = np.asarray(closed_at).astype("datetime64[ns]").view(np.int64)
    until = np.minimum(
        np.where(resolved == _NAT, big, resolved), np.where(closed == _NAT, big, closed)
    )
    finished = np.isin(np.asarray(status).astype(str), _FINISHED_STATUSES)
    return np.where((until == big) & finished, np.iinfo(np.int64).min, until)


def _category_codes(new: np.ndarray, earlier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # A dict over the few distinct codes: linear, and 5x faster than np.unique's sort of
    # a million Python strings.
    lookup = {c: k for k, c in enumerate(set(new.tolist()) | set(earlier.tolist()))}

    def codes(values: np.ndarray) -> NDArray[np.int64]:
        return np.fromiter(map(lookup.__getitem__, values.tolist()), np.int64, values.size)

    return codes(new), codes(earlier)


def _pairs(
    new_xy: tuple[np.ndarray, np.ndarray, np.ndarray],
    old_xy: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    distance_m: float,
    new_t: np.ndarray,
    old_t: np.ndarray,
    half_window_ns: float,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Candidate (new, old) index pairs: same category, close in space and time.

    ``new_t`` and ``old_t`` are times (ns) such that a pair can only match when
    ``|new_t - old_t| <= half_window_ns``.
    """
    lng_n, lat_n, cat_n = new_xy
    lng_o, lat_o, cat_o = old_xy
    if lng_n.size == 0 or lng_o.size == 0:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    lats = np.concatenate([lat_n, lat_o])
    lat0 = 0.5 * (lats.min() + lats.max())
    # Local equirectangular projection about the middle latitude. Across a town (a few
    # tenths of a degree) its x scale is off by well under 1 %, i.e. centimetres at 30 m;
    # the box below is widened by the worst scale error over the data's latitudes anyway,
    # and the exact test uses each pair's own latitude, so nothing is lost at any extent.
    k0 = np.cos(np.radians(lat0))
    cos_ends = np.cos(np.radians([lats.min(), lats.max()]))
    stretch = float(max(np.max(k0 / cos_ends), np.max(cos_ends / k0)))
    radius = distance_m * stretch * _SLACK
    metres_per_degree = np.radians(1.0) * _EARTH_RADIUS_M
    origin = min(new_t.min(), old_t.min())
    scale = radius / (half_window_ns * _SLACK) if half_window_ns > 0 else 0.0

    def points(lng, lat, cat, t):
        x = (lng - lng_n.min()) * metres_per_degree * k0 + cat * _CATEGORY_GAP_M
        y = (lat - lat0) * metres_per_degree
        return np.column_stack([x, y, (t - origin).astype(np.float64) * scale])

    new_tree = cKDTree(points(lng_n, lat_n, cat_n, new_t))
    old_tree = cKDTree(points(lng_o, lat_o, cat_o, old_t))
    found = new_tree.sparse_distance_matrix(old_tree, radius, p=np.inf, output_type="ndarray")
    return found["i"].astype(np.intp), found["j"].astype(np.intp)


def _within(
    lng_a: np.ndarray, lat_a: np.ndarray, lng_b: np.ndarray, lat_b: np.ndarray, distance_m: float
) -> NDArray[np.bool_]:
    # Equirectangular at the pair's mean latitude: relative error ~1e-7 at 30 m.
    k = np.cos(np.radians(0.5 * (lat_a + lat_b)))
    dx = np.radians(lng_a - lng_b) * k * _EARTH_RADIUS_M
    dy = np.radians(lat_a - lat_b) * _EARTH_RADIUS_M
    return dx * dx + dy * dy <= distance_m * distance_m


def _pick(n_new: int, i: np.ndarray, values: np.ndarray, *, first: bool) -> NDArray[np.intp]:
    """Per new report, the position in ``values`` of its pair sorted first (or -1)."""
    best = np.full(n_new, -1, dtype=np.intp)
    if i.size == 0:
        return best
    order = np.lexsort((values, i))  # by new report, then by value ascending
    i_sorted = i[order]
    if first:
        take = np.r_[True, i_sorted[1:] != i_sorted[:-1]]
    else:
        take = np.r_[i_sorted[1:] != i_sorted[:-1], True]
    best[i_sorted[take]] = order[take]
    return best


def _sides(new, rows: np.ndarray, earlier, keep: np.ndarray):
    """(lng, lat, category code) of the new rows and of the earlier candidates."""
    cat_n, cat_o = _category_codes(
        _column(new, "category")[rows], _column(earlier, "category")[keep]
    )
    new_side = (
        _column(new, "lng").astype(np.float64)[rows],
        _column(new, "lat").astype(np.float64)[rows],
        cat_n,
    )
    old_side = (
        _column(earlier, "lng").astype(np.float64)[keep],
        _column(earlier, "lat").astype(np.float64)[keep],
        cat_o,
    )
    return new_side, old_side


def find_relapses(
    new: Frame, earlier: Frame, *, distance_m: float = 30.0, window_days: float = 60.0
) -> NDArray[np.int64]:
    """The report each new report is a relapse (反弹) of, or -1.

    A new report relapses an earlier one of the same category closed at most
    ``window_days`` before the new one was reported (strictly before it) and at most
    ``distance_m`` away. Of several, the most recently closed is returned (ties: the
    larger id). A report never relapses itself, so ``new`` and ``earlier`` may be the
    same reports.

    Parameters
    ----------
    new : frame-like
        ``id``, ``category``, ``lng``, ``lat``, ``reported_at``.
    earlier : frame-like
        ``id``, ``category``, ``lng``, ``lat``, ``closed_at`` (``NaT``: not closed).
    distance_m : float, default 30
    window_days : float, default 60

    Returns
    -------
    numpy.ndarray of int64
        Aligned with ``new``: the matched earlier report's ``id``, or -1.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array(["2026-05-01", "2026-06-20"], dtype="datetime64[ns]")
    >>> old = {"id": [7], "category": ["litter"], "lng": [116.3], "lat": [39.8],
    ...        "closed_at": t[:1]}
    >>> new = {"id": [9], "category": ["litter"], "lng": [116.3002], "lat": [39.8],
    ...        "reported_at": t[1:]}
    >>> find_relapses(new, old)
    array([7])
    """
    new_id = _column(new, "id").astype(np.int64)
    old_id = _column(earlier, "id").astype(np.int64)
    reported = _times(new, "reported_at")
    closed = _times(earlier, "closed_at")
    result = np.full(new_id.size, -1, dtype=np.int64)
    keep = np.flatnonzero(closed != _NAT)
    if new_id.size == 0 or keep.size == 0:
        return result
    window = round(window_days * 86_400 * _NS_PER_S)
    rows = np.flatnonzero(reported != _NAT)  # a report without a date matches nothing
    new_id, reported = new_id[rows], reported[rows]
    (lng_n, lat_n, cat_n), (lng_o, lat_o, cat_o) = _sides(new, rows, earlier, keep)
    closed, old_id = closed[keep], old_id[keep]
    # reported - closed in (0, window]  <=>  |reported - (closed + window/2)| <= window/2
    i, j = _pairs(
        (lng_n, lat_n, cat_n),
        (lng_o, lat_o, cat_o),
        distance_m=distance_m,
        new_t=reported,
        old_t=closed + window // 2,
        half_window_ns=window / 2,
    )
    gap = reported[i] - closed[j]
    ok = (
        (cat_n[i] == cat_o[j])
        & (gap > 0)
        & (gap <= window)
        & (new_id[i] != old_id[j])
        & _within(lng_n[i], lat_n[i], lng_o[j], lat_o[j], distance_m)
    )
    i, j = i[ok], j[ok]
    # most recently closed wins; among equal closing times the larger id
    rank = np.lexsort((old_id[j], closed[j]))
    position = np.empty_like(rank)
    position[rank] = np.arange(rank.size)
    best = _pick(new_id.size, i, position, first=False)
    hit = best >= 0
    result[rows[hit]] = old_id[j[best[hit]]]
    return result


def find_duplicates(
    new: Frame, earlier: Frame, *, distance_m: float = 20.0, window_hours: float = 24.0
) -> NDArray[np.int64]:
    """The open report each new report duplicates, or -1.

    A new report duplicates an earlier one of the same category at most ``distance_m``
    away, reported at most ``window_hours`` before it, and still open when the new one
    came (see :func:`open_until`). "Earlier" means reported strictly before, or at the
    same moment with a smaller id. Of several, the earliest reported is returned (ties:
    the smaller id). ``new`` and ``earlier`` may be the same reports.

    Parameters
    ----------
    new : frame-like
        ``id``, ``category``, ``lng``, ``lat``, ``reported_at``.
    earlier : frame-like
        ``id``, ``category``, ``lng``, ``lat``, ``reported_at``, ``status``,
        ``resolved_at``, ``closed_at``.
    distance_m : float, default 20
    window_hours : float, default 24

    Returns
    -------
    numpy.ndarray of int64
        Aligned with ``new``: the matched earlier report's ``id``, or -1.
    """
    new_id = _column(new, "id").astype(np.int64)
    old_id = _column(earlier, "id").astype(np.int64)
    reported = _times(new, "reported_at")
    old_reported = _times(earlier, "reported_at")
    until = open_until(
        _column(earlier, "status"), _column(earlier, "resolved_at"), _column(earlier, "closed_at")
    )
    result = np.full(new_id.size, -1, dtype=np.int64)
    keep = np.flatnonzero((until > old_reported) & (old_reported != _NAT))
    if new_id.size == 0 or keep.size == 0:
        return result
    window = round(window_hours * 3_600 * _NS_PER_S)
    rows = np.flatnonzero(reported != _NAT)  # a report without a date matches nothing
    new_id, reported = new_id[rows], reported[rows]
    (lng_n, lat_n, cat_n), (lng_o, lat_o, cat_o) = _sides(new, rows, earlier, keep)
    old_reported, until, old_id = old_reported[keep], until[keep], old_id[keep]
    i, j = _pairs(
        (lng_n, lat_n, cat_n),
        (lng_o, lat_o, cat_o),
        distance_m=distance_m,
        new_t=reported,
        old_t=old_reported + window // 2,
        half_window_ns=window / 2,
    )
    gap = reported[i] - old_reported[j]
    before = (gap > 0) | ((gap == 0) & (old_id[j] < new_id[i]))
    ok = (
        (cat_n[i] == cat_o[j])
        & before
        & (gap <= window)
        & (until[j] > reported[i])
        & _within(lng_n[i], lat_n[i], lng_o[j], lat_o[j], distance_m)
    )
    i, j = i[ok], j[ok]
    # earliest reported wins; among equal times the smaller id
    rank = np.lexsort((old_id[j], old_reported[j]))
    position = np.empty_like(rank)
    position[rank] = np.arange(rank.size)
    best = _pick(new_id.size, i, position, first=True)
    hit = best >= 0
    result[rows[hit]] = old_id[j[best[hit]]]
    return result
