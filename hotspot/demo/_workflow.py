"""The demo reports' workflow: event times, statuses, relapses, duplicates and the event rows."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hotspot.demo import _texts
from hotspot.demo._frames import EVENT_DTYPES, frame, seconds_to_datetime
from hotspot.demo._geography import Geography, workers
from hotspot.demo._params import (
    CLOSED_COLUMN,
    DAY,
    DEFAULT_REJECT_PROBABILITY,
    DISPATCH_HOURS,
    DUPLICATE_DISTANCE_M,
    DUPLICATE_SHARE,
    DUPLICATE_WINDOW_H,
    HOUR,
    NORMAL_PATH,
    PERIOD_DAYS,
    REJECT_PROBABILITY,
    RELAPSE_DISTANCE_M,
    RELAPSE_SHARE,
    REWORK_PROBABILITY,
    SLOW_DISPATCH_PROBABILITY,
    SOURCE_ORDER,
)
from hotspot.demo._shapes import moved_copies, offsets

#: End of the demo year, in seconds after its start: later events have not happened yet.
NOW = PERIOD_DAYS * DAY


@dataclass
class Draft:
    """The reports as drawn, one entry per report (positions, not ids).

    Attributes
    ----------
    category, component, layer : numpy.ndarray of int
        Category position, planted hotspot (-1 for the background), layer position.
    footprint : numpy.ndarray of bool
    source : numpy.ndarray of int
        Index into ``SOURCE_ORDER``.
    t : numpy.ndarray of float
        Seconds after the start of the demo year.
    geoms : numpy.ndarray of shapely geometries
        In EPSG:4548.
    deadline_h, stuck_p : numpy.ndarray of float
        The deadline in hours; the chance that the work drags on.
    times : numpy.ndarray of float, shape (n, 7)
        Event times along :data:`NORMAL_PATH` (seconds, NaN where none).
    rejected : numpy.ndarray of bool
        Whether the second event rejects the report.
    status : numpy.ndarray of str
        The status reached by the end of the demo year.
    relapse_of, duplicate_of : numpy.ndarray of int
        Position of the report this one repeats, -1 for none.
    """

    category: NDArray[np.int64]
    component: NDArray[np.int64]
    layer: NDArray[np.int64]
    footprint: NDArray[np.bool_]
    source: NDArray[np.int64]
    t: NDArray[np.float64]
    geoms: NDArray[np.object_]
    deadline_h: NDArray[np.float64]
    stuck_p: NDArray[np.float64]
    times: NDArray[np.float64]
    rejected: NDArray[np.bool_]
    status: NDArray[np.object_]
    relapse_of: NDArray[np.int64]
    duplicate_of: NDArray[np.int64]

    def in_time_order(self) -> Draft:
        """The same reports sorted by report time, with references renumbered.

        Returns
        -------
        Draft
        """
        order = np.argsort(self.t, kind="stable")
        position = np.empty(order.size, dtype=np.int64)
        position[order] = np.arange(order.size)

        def renumbered(of: NDArray[np.int64]) -> NDArray[np.int64]:
            return np.where(of >= 0, position[np.maximum(of, 0)], -1)[order]

        sorted_fields = {f.name: getattr(self, f.name)[order] for f in fields(self)}
        sorted_fields["relapse_of"] = renumbered(self.relapse_of)
        sorted_fields["duplicate_of"] = renumbered(self.duplicate_of)
        return Draft(**sorted_fields)


def event_times(
    t0: NDArray[np.float64],
    deadline_h: NDArray[np.float64],
    source: NDArray[np.int64],
    stuck_p: NDArray[np.float64],
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Event times (seconds, NaN where none) along the normal path, or the rejected flag.

    Parameters
    ----------
    t0 : numpy.ndarray of float
        Report times.
    deadline_h : numpy.ndarray of float
    source : numpy.ndarray of int
    stuck_p : numpy.ndarray of float
    rng : numpy.random.Generator

    Returns
    -------
    times : numpy.ndarray of float, shape (n, 7)
    rejected : numpy.ndarray of bool
    """
    n = t0.size

    def lag(median_h: float | NDArray[np.float64], sigma: float) -> NDArray[np.float64]:
        return np.asarray(median_h) * HOUR * np.exp(rng.normal(0, sigma, n))

    reject_p = np.array(
        [REJECT_PROBABILITY.get(s, DEFAULT_REJECT_PROBABILITY) for s in SOURCE_ORDER]
    )
    dispatch_h = np.array([DISPATCH_HOURS.get(s, 1.0) for s in SOURCE_ORDER])
    rejected = rng.random(n) < reject_p[source]
    d1 = lag(dispatch_h[source], 0.8) + 300
    waiting = rng.random(n) < SLOW_DISPATCH_PROBABILITY  # sits in the queue for days
    d1 = np.where(waiting, rng.uniform(0.5, 4.0, n) * DAY, d1)
    d2 = lag(6.0, 1.0) + 300
    d3 = lag(0.4 * deadline_h, 0.7) + 1800
    stuck = rng.random(n) < stuck_p
    d3 = np.where(stuck, d3 * rng.uniform(3, 15, n), d3)
    d4 = lag(30.0, 0.6) + 1800
    rework = rng.random(n) < REWORK_PROBABILITY
    d5 = lag(0.3 * deadline_h, 0.7) + 1800
    d6 = lag(24.0, 0.6) + 1800
    reject_lag = lag(8.0, 0.8) + 600
    times = np.full((n, 7), np.nan)
    times[:, 0] = t0
    times[:, 1] = t0 + d1
    times[:, 2] = times[:, 1] + d2
    times[:, 3] = times[:, 2] + d3
    times[:, 4] = np.where(rework, times[:, 3] + d4, np.nan)
    times[:, 5] = np.where(rework, times[:, 4] + d5, np.nan)
    times[:, 6] = np.where(rework, times[:, 5] + d6, times[:, 3] + d4)
    times[rejected, 1] = t0[rejected] + reject_lag[rejected]
    times[rejected, 2:] = np.nan
    return times, rejected


def final_status(
    times: NDArray[np.float64], rejected: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    """Cut the events at :data:`NOW`; the status each report has reached by then.

    Parameters
    ----------
    times : numpy.ndarray of float, shape (n, 7)
    rejected : numpy.ndarray of bool

    Returns
    -------
    times : numpy.ndarray of float, shape (n, 7)
        NaN from :data:`NOW` on.
    status : numpy.ndarray of str
    """
    times = np.where(times < NOW, times, np.nan)
    valid = ~np.isnan(times)
    last = 6 - np.argmax(valid[:, ::-1], axis=1)
    normal = np.array(NORMAL_PATH, dtype=object)
    status = np.where(rejected & (last == 1), "rejected", normal[last]).astype(object)
    return times, status


def _pair_victims(
    parents: NDArray[np.int64], draft: Draft, used: NDArray[np.bool_], rng: np.random.Generator
) -> NDArray[np.int64]:
    """For each parent, an unused background report of its category to rewrite (-1 if none)."""
    category = draft.category
    out = np.full(parents.size, -1)
    pool = ~used & (draft.component < 0)
    for c in np.unique(category[parents]):
        mine = np.flatnonzero(category[parents] == c)
        candidates = np.flatnonzero(pool & (category == c))
        take = min(mine.size, candidates.size)
        if take:
            out[mine[:take]] = rng.choice(candidates, size=take, replace=False)
    return out


def _pairs(
    eligible: NDArray[np.int64],
    share: float,
    draft: Draft,
    used: NDArray[np.bool_],
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Parents drawn from ``eligible`` and the background reports rewritten as their copies."""
    size = min(round(share * draft.t.size), eligible.size)
    parents = np.sort(rng.choice(eligible, size=size, replace=False))
    used[parents] = True
    copies = _pair_victims(parents, draft, used, rng)
    paired = copies >= 0
    parents, copies = parents[paired], copies[paired]
    used[copies] = True
    return parents, copies


def add_relapses(draft: Draft, geo: Geography, rng: np.random.Generator) -> NDArray[np.bool_]:
    """Relapses: the same problem back within 60 days of closing, a few metres away.

    Rewrites background reports of the same category in place.

    Parameters
    ----------
    draft : Draft
        Its workflow drawn; ``status`` as reached by the end of the year.
    geo : Geography
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray of bool
        The reports used as a parent or a relapse.
    """
    used = np.zeros(draft.t.size, dtype=bool)
    closed_at = draft.times[:, CLOSED_COLUMN].copy()
    eligible = np.flatnonzero((draft.status == "closed") & (closed_at < NOW - DAY))
    parents, children = _pairs(eligible, RELAPSE_SHARE, draft, used, rng)
    if children.size:
        closed_day = np.floor(closed_at[parents] / DAY)
        room = np.minimum(59, PERIOD_DAYS - 1 - closed_day)
        day = closed_day + 1 + np.floor(rng.random(children.size) * room)
        draft.t[children] = day * DAY + np.mod(draft.t[children], DAY)
        dx, dy = offsets(children.size, RELAPSE_DISTANCE_M, rng)
        _copy_shapes(draft, parents, children, dx, dy, geo)
        draft.relapse_of[children] = parents
        draft.times[children], draft.rejected[children] = event_times(
            draft.t[children],
            draft.deadline_h[children],
            draft.source[children],
            draft.stuck_p[children],
            rng,
        )
    return used


def add_duplicates(
    draft: Draft, used: NDArray[np.bool_], geo: Geography, rng: np.random.Generator
) -> None:
    """Duplicates: the same problem reported again within hours while still open.

    Rewrites background reports of the same category in place; the copy is closed with its
    parent or rejected as a duplicate.

    Parameters
    ----------
    draft : Draft
    used : numpy.ndarray of bool
        Reports already taken (by :func:`add_relapses`); updated.
    geo : Geography
    rng : numpy.random.Generator
    """
    t, times, rejected = draft.t, draft.times, draft.rejected
    first_done = np.where(rejected, times[:, 1], times[:, 3])
    window = np.minimum(DUPLICATE_WINDOW_H * HOUR, 0.9 * (first_done - t))
    eligible = np.flatnonzero(~used & (t < NOW - DAY) & (window > 1800))
    parents, dups = _pairs(eligible, DUPLICATE_SHARE, draft, used, rng)
    if dups.size == 0:
        return
    t[dups] = t[parents] + rng.uniform(0.05, 1.0, dups.size) * window[parents]
    t[dups] = np.maximum(t[dups], t[parents] + 600)
    dx, dy = offsets(dups.size, DUPLICATE_DISTANCE_M, rng)
    fp = draft.footprint[dups]
    dx[fp], dy[fp] = dx[fp] / 3, dy[fp] / 3  # the same structure, seen from another spot
    _copy_shapes(draft, parents, dups, dx, dy, geo)
    # another caller, or a neighbour with the app
    draft.source[dups] = np.where(
        rng.random(dups.size) < 0.8, SOURCE_ORDER.index("hotline"), SOURCE_ORDER.index("resident")
    )
    draft.duplicate_of[dups] = parents
    _, parent_status = final_status(times[parents], rejected[parents])
    with_parent = (parent_status == "closed") & (rng.random(dups.size) < 0.45)
    row = np.full((dups.size, 7), np.nan)
    row[:, 0] = t[dups]
    row[:, 1] = t[dups] + 600 + rng.uniform(0, 2, dups.size) * HOUR
    row[:, 2] = row[:, 1] + 600 + rng.uniform(0, 2, dups.size) * HOUR
    parent_resolved = np.where(np.isnan(times[parents, 5]), times[parents, 3], times[parents, 5])
    row[:, 3] = np.maximum(parent_resolved, row[:, 2] + 600)
    row[:, 6] = np.maximum(times[parents, 6], row[:, 3] + 600)
    rejected_row = row.copy()
    rejected_row[:, 1] = t[dups] + 600 + rng.uniform(0, 12, dups.size) * HOUR
    rejected_row[:, 2:] = np.nan
    times[dups] = np.where(with_parent[:, None], row, rejected_row)
    rejected[dups] = ~with_parent


def _copy_shapes(
    draft: Draft,
    parents: NDArray[np.int64],
    copies: NDArray[np.int64],
    dx: NDArray[np.float64],
    dy: NDArray[np.float64],
    geo: Geography,
) -> None:
    """Give each copy its parent's shape moved by (dx, dy), or unmoved if it would leave."""
    draft.geoms[copies] = moved_copies(
        draft.geoms[parents], dx, dy, point_area=geo.point_area, footprint_area=geo.town
    )


def event_frame(
    draft: Draft,
    *,
    community: NDArray[np.int64],
    cell: NDArray[np.int64],
    layers: list[str],
    geo: Geography,
    start: np.datetime64,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Table ``report_event``: one row per status change of the reports, in order.

    Parameters
    ----------
    draft : Draft
        In time order: report ids are positions + 1.
    community, cell : numpy.ndarray of int
        Per report: community position and H3 cell, for the grid worker who checks.
    layers : list of str
    geo : Geography
    start : numpy.datetime64
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
    """
    n = draft.t.size
    ids = np.arange(1, n + 1)
    source_code = np.array(SOURCE_ORDER, dtype=object)[draft.source]
    checker = "网格员" + workers(cell, community, geo.cell_worker, geo.community_worker)
    handler_of_layer = np.array(
        [_texts.HANDLER.get(la, "综合执法队") for la in layers], dtype=object
    )
    handler = handler_of_layer[draft.layer]
    community_name = geo.community_name[np.maximum(community, 0)]
    handler = np.where(handler == "社区", community_name + "居委会", handler).astype(object)
    reporter_actor = np.array([_texts.REPORTED_BY.get(s, "") for s in SOURCE_ORDER], dtype=object)[
        draft.source
    ]
    reporter_actor = np.where(source_code == "patrol", checker, reporter_actor).astype(object)
    new_note = np.array([_texts.NEW_NOTE[s] for s in SOURCE_ORDER], dtype=object)[draft.source]
    is_dup = draft.duplicate_of >= 0
    dup_ref = "#" + pd.Series(draft.duplicate_of + 1).astype(str).to_numpy(dtype=object)
    reject_note = np.where(
        is_dup,
        "重复工单，并入" + dup_ref,
        np.where(rng.random(n) < 0.6, "不属于受理范围，不予立案", "现场核实无此问题"),
    ).astype(object)
    close_note = np.where(is_dup, "随原工单" + dup_ref + "一并结案", "核查通过，结案").astype(
        object
    )
    resolve_note = np.where(draft.footprint, "已拆除，待核查", "整改完成，待核查").astype(object)

    actors = np.stack(
        [
            reporter_actor,
            np.full(n, "镇城指中心", dtype=object),
            handler,
            handler,
            checker,
            handler,
            checker,
        ],
        axis=1,
    )
    notes = np.stack(
        [
            new_note,
            "派遣至" + handler,
            np.full(n, "已接单，开始整改", dtype=object),
            resolve_note,
            np.full(n, "核查未通过，返工", dtype=object),
            np.full(n, "返工完成，待核查", dtype=object),
            close_note,
        ],
        axis=1,
    )
    to_status = np.broadcast_to(np.array(NORMAL_PATH, dtype=object), (n, 7)).copy()
    to_status[draft.rejected, 1] = "rejected"
    actors[draft.rejected, 1] = "镇城指中心"
    notes[draft.rejected, 1] = reject_note[draft.rejected]
    row, col = np.nonzero(~np.isnan(draft.times))
    to = to_status[row, col]
    same_report = np.r_[False, row[1:] == row[:-1]]
    previous = np.concatenate([np.array([None], dtype=object), to[:-1]])
    return frame(
        {
            "id": np.arange(1, row.size + 1),
            "report_id": ids[row],
            "at": seconds_to_datetime(start, draft.times[row, col]),
            "actor": actors[row, col],
            "from_status": np.where(same_report, previous, None),
            "to_status": to,
            "note": notes[row, col],
        },
        EVENT_DTYPES,
    )
