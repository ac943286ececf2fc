"""Leadership overview: KPIs with the previous period, weekly trend, community ranking."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from hotspot import taxonomy
from hotspot.filters import ReportFilter
from hotspot.store.frames import read_communities, read_reports

__all__ = ["DEFAULT_PERIOD_DAYS", "KPI_NAMES", "community_ranking", "kpis", "weekly_trend"]

#: Length of the period when the filters leave ``since`` open.
DEFAULT_PERIOD_DAYS = 28

#: KPI key -> (Chinese name, English name), in display order.
KPI_NAMES: dict[str, tuple[str, str]] = {
    "reports": ("上报数", "Reports"),
    "open": ("未结案", "Open"),
    "overdue": ("超期", "Overdue"),
    "closure_rate": ("结案率", "Closure rate"),
    "on_time_rate": ("按期结案率", "On-time closure rate"),
    "relapse_rate": ("反弹率", "Relapse rate"),
}


def _period(filters: ReportFilter, today: dt.date) -> tuple[dt.date, dt.date]:
    """The inclusive [since, until] of ``filters``, open ends filled from ``today``."""
    until = filters.until or today
    since = filters.since or until - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    return since, until


def _end(until: dt.date, today: dt.date) -> pd.Timestamp:
    """The instant the period's state is taken at: the end of ``until``, never after today."""
    return pd.Timestamp(min(until, today) + dt.timedelta(days=1))


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN (without a warning) when the denominator is 0."""
    return float(numerator) / float(denominator) if denominator else float("nan")


def _state_at(reports: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Boolean columns ``open``, ``overdue``, ``closed``, ``rejected`` as of ``end``.

    The store keeps only the current status, so a report now resolved or closed counts
    as open at ``end`` when its work was finished (``resolved_at``, else ``closed_at``)
    at or after ``end``; a report closed after ``end`` is not yet closed then.
    """
    status = reports["status"]
    finished = reports["resolved_at"].fillna(reports["closed_at"])
    done_later = status.isin(taxonomy.DONE_STATUSES) & (finished >= end)
    is_open = status.isin(taxonomy.OPEN_STATUSES) | done_later
    closed = (status == "closed") & ~(reports["closed_at"] >= end)
    overdue = is_open & (reports["due_at"] < end)
    return pd.DataFrame(
        {
            "open": is_open.astype(bool),
            "overdue": overdue.astype(bool),
            "closed": closed.astype(bool),
            "rejected": (status == "rejected").astype(bool),
        },
        index=reports.index,
    )


def _measures(reports: pd.DataFrame, end: pd.Timestamp) -> dict[str, float]:
    """The KPI values of one period's reports, keyed as :data:`KPI_NAMES`."""
    state = _state_at(reports, end)
    closed = state["closed"]
    on_time = closed & (reports["closed_at"] <= reports["due_at"])
    n = len(reports)
    return {
        "reports": float(n),
        "open": float(state["open"].sum()),
        "overdue": float(state["overdue"].sum()),
        "closure_rate": _ratio(closed.sum(), n - state["rejected"].sum()),
        "on_time_rate": _ratio(on_time.sum(), closed.sum()),
        "relapse_rate": _ratio(reports["relapse_of"].notna().sum(), n),
    }


def kpis(engine: Engine, filters: ReportFilter, *, today: dt.date) -> pd.DataFrame:
    """Leadership KPIs of a period beside those of the period of the same length before it.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter
        The reports; ``since``/``until`` give the period (by report date, inclusive).
        An open ``until`` is ``today``; an open ``since`` is
        :data:`DEFAULT_PERIOD_DAYS` days before ``until``.
    today : datetime.date
        The state (open, overdue, closed) is taken at the end of the period, but not
        after the end of ``today``.

    Returns
    -------
    pandas.DataFrame
        One row per KPI in :data:`KPI_NAMES` order with columns ``key``, ``name_zh``,
        ``name_en``, ``value``, ``previous`` and ``change`` (``value - previous``).
        Counts: ``reports``; ``open`` (status in ``taxonomy.OPEN_STATUSES`` at the
        end of the period); ``overdue`` (open, ``due_at`` before the end). Rates, as
        fractions 0..1 and NaN when undefined: ``closure_rate`` 结案率 (closed /
        (reports - rejected)); ``on_time_rate`` 按期结案率 (closed with
        ``closed_at <= due_at`` / closed; no ``due_at`` is not on time);
        ``relapse_rate`` 反弹率 (reports with ``relapse_of`` / reports).
    """
    since, until = _period(filters, today)
    length = until - since + dt.timedelta(days=1)
    current = dataclasses.replace(filters, since=since, until=until)
    previous = dataclasses.replace(
        filters, since=since - length, until=since - dt.timedelta(days=1)
    )
    now = _measures(read_reports(engine, current), _end(until, today))
    before = _measures(read_reports(engine, previous), _end(previous.until, today))
    frame = pd.DataFrame(
        {
            "key": list(KPI_NAMES),
            "name_zh": [zh for zh, _ in KPI_NAMES.values()],
            "name_en": [en for _, en in KPI_NAMES.values()],
            "value": [now[key] for key in KPI_NAMES],
            "previous": [before[key] for key in KPI_NAMES],
        }
    )
    frame["change"] = frame["value"] - frame["previous"]
    return frame


def _monday(values: pd.Series) -> pd.Series:
    """The Monday (midnight) of the week of each timestamp."""
    days = values.dt.normalize()
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def weekly_trend(engine: Engine, filters: ReportFilter) -> pd.DataFrame:
    """Reports per week and layer, zero-filled, in long format.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter
        The reports; the weeks run from the week of ``since`` to the week of
        ``until`` (the first and last report when open). The layers are
        ``filters.layers``, else every layer of ``taxonomy.LAYER_NAMES``.

    Returns
    -------
    pandas.DataFrame
        Columns ``week`` (the Monday, ``datetime64``), ``layer`` and ``count`` (int64),
        one row per week and layer, ordered by week then layer order.
    """
    reports = read_reports(engine, filters)
    layers = list(filters.layers) or list(taxonomy.LAYER_NAMES)
    weeks = _monday(reports["reported_at"])
    first = pd.Timestamp(filters.since) if filters.since else weeks.min()
    last = pd.Timestamp(filters.until) if filters.until else weeks.max()
    if pd.isna(first) or pd.isna(last):
        span = pd.DatetimeIndex([])
    else:
        bounds = _monday(pd.Series([first, last]))
        span = pd.date_range(bounds.iloc[0], bounds.iloc[1], freq="7D")
    counts = pd.Series(1, index=pd.MultiIndex.from_arrays([weeks, reports["layer"]]))
    counts = counts.groupby(level=[0, 1]).sum()
    full = pd.MultiIndex.from_product([span, layers], names=["week", "layer"])
    result = counts.reindex(full, fill_value=0).astype(np.int64)
    return result.rename("count").reset_index()


def community_ranking(
    engine: Engine, filters: ReportFilter, *, today: dt.date | None = None
) -> pd.DataFrame:
    """Communities ranked by their number of reports.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter
    today : datetime.date, optional
        Open and overdue are taken at the end of ``filters.until``, not after the end
        of ``today`` (the current date when omitted).

    Returns
    -------
    pandas.DataFrame
        Every community, with ``code``, ``name``, ``reports``, ``open``, ``overdue``
        (int64), ``closure_rate`` (as in :func:`kpis`; NaN without reports),
        ``reports_per_km2`` (NaN without an area) and ``rank`` (1 for the most
        reports; ties share the best rank), ordered by rank then code.
    """
    today = today or dt.date.today()
    end = _end(filters.until or today, today)
    reports = read_reports(engine, filters)
    state = _state_at(reports, end)
    state["community"] = reports["community"]
    state["reports"] = 1
    state["countable"] = ~state["rejected"]
    sums = state.groupby("community")[["reports", "open", "overdue", "closed", "countable"]].sum()
    communities = pd.DataFrame(read_communities(engine)[["code", "name", "area_m2"]])
    frame = communities.join(sums, on="code")
    for column in ("reports", "open", "overdue", "closed", "countable"):
        frame[column] = frame[column].fillna(0).astype(np.int64)
    countable = frame["countable"].astype(np.float64)
    frame["closure_rate"] = frame["closed"] / countable.where(countable > 0)
    area_km2 = pd.to_numeric(frame["area_m2"]).astype(np.float64) / 1e6
    frame["reports_per_km2"] = frame["reports"] / area_km2.where(area_km2 > 0)
    frame["rank"] = frame["reports"].rank(method="min", ascending=False).astype(np.int64)
    frame = frame.sort_values(["rank", "code"], kind="stable").reset_index(drop=True)
    columns = ["code", "name", "reports", "open", "overdue", "closure_rate"]
    return frame[[*columns, "reports_per_km2", "rank"]]
