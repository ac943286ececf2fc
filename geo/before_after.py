"""Reports before and after a concentrated operation (集中执法行动), with an exact test.

The reports in an operation's cells are counted week by week for some weeks before the
operation and the same number of weeks from its date on. Whether the rate changed is an
exact test of two Poisson rates: given the total ``n = before + after``, the after
count is Binomial(n, p) with ``p = t_after / (t_before + t_after)`` under "no change"
(``p = 0.5`` for equal periods), so :func:`scipy.stats.binomtest` gives the p-value.
A period cut short by the end of the data (an operation a week ago has only one week
after it) simply has less exposure.

Pure: report times in, numbers out; selecting the reports in the cells is the caller's.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import binomtest

__all__ = ["BeforeAfter", "before_after"]


@dataclass(frozen=True)
class BeforeAfter:
    """Reports before and after an operation, and whether the change is significant.

    Attributes
    ----------
    weekly : pandas.DataFrame
        One row per week: ``week`` (its first day), ``period`` ('before' or 'after'),
        ``days`` (days of the week covered by the data) and ``n_reports``.
    before, after : int
        Reports in each period.
    days_before, days_after : int
        Days in each period (the exposure).
    per_week_before, per_week_after : float
        Reports per week in each period.
    change : float
        ``per_week_after - per_week_before``: negative is a drop.
    change_pct : float
        The change in percent of the before rate; NaN when there were none before.
    p_value : float
        Two-sided exact conditional test of equal Poisson rates (1.0 without reports).
    significant : bool
        ``p_value < alpha``.
    """

    weekly: pd.DataFrame
    before: int
    after: int
    days_before: int
    days_after: int
    per_week_before: float
    per_week_after: float
    change: float
    change_pct: float
    p_value: float
    significant: bool

    def as_dict(self) -> dict[str, float | int | bool]:
        """The summary numbers (all but ``weekly``) as a plain dict."""
        return {k: v for k, v in self.__dict__.items() if k != "weekly"}


def before_after(
    report_times: ArrayLike,
    *,
    operation_date: dt.date,
    weeks: int = 4,
    data_until: dt.date | None = None,
    alpha: float = 0.05,
) -> BeforeAfter:
    """Compare reports in the weeks before an operation with the weeks from its date on.

    Parameters
    ----------
    report_times : array_like of datetime64
        Times of the reports in the operation's cells (any categories the caller chose).
    operation_date : datetime.date
        The operation's (first) day; it belongs to the after period.
    weeks : int, default 4
        Weeks on each side.
    data_until : datetime.date, optional
        Last day the data covers; the after period stops there (less exposure). By
        default both periods are complete.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    BeforeAfter

    Raises
    ------
    ValueError
        If ``weeks`` is not positive or ``data_until`` falls before the operation.

    Examples
    --------
    >>> import numpy as np
    >>> times = np.array(["2026-05-20"] * 40 + ["2026-06-10"] * 10, dtype="datetime64[ns]")
    >>> result = before_after(times, operation_date=dt.date(2026, 6, 1))
    >>> result.before, result.after, result.significant
    (40, 10, True)
    """
    weeks = operator.index(weeks)
    if weeks < 1:
        raise ValueError(f"weeks must be 1 or more, got {weeks}")
    start = np.datetime64(operation_date - dt.timedelta(weeks=weeks), "D")
    middle = np.datetime64(operation_date, "D")
    end = np.datetime64(operation_date + dt.timedelta(weeks=weeks), "D")
    if data_until is not None:
        stop = np.datetime64(data_until, "D") + 1
        if stop <= middle:
            raise ValueError(f"data ends ({data_until}) before the operation ({operation_date})")
        end = min(end, stop)

    times = np.asarray(report_times, dtype="datetime64[ns]").ravel()
    days = times[~np.isnat(times)].astype("datetime64[D]")
    days = days[(days >= start) & (days < end)]
    # Week number relative to the operation: -weeks..-1 before, 0..weeks-1 after.
    week_of = (days - middle).astype(np.int64) // 7
    counts = np.bincount(week_of + weeks, minlength=2 * weeks)
    week_starts = middle + 7 * np.arange(-weeks, weeks)
    covered = np.clip((end - week_starts).astype(np.int64), 0, 7)
    weekly = pd.DataFrame(
        {
            "week": pd.to_datetime(week_starts).date,
            "period": np.where(np.arange(-weeks, weeks) < 0, "before", "after"),
            "days": covered,
            "n_reports": counts,
        }
    )
    weekly = weekly.loc[weekly["days"] > 0].reset_index(drop=True)

    before = int(counts[:weeks].sum())
    after = int(counts[weeks:].sum())
    days_before = 7 * weeks
    days_after = int((end - middle).astype(np.int64))
    rate_before = 7.0 * before / days_before
    rate_after = 7.0 * after / days_after
    change = rate_after - rate_before
    change_pct = 100.0 * change / rate_before if before else math.nan
    n = before + after
    if n:
        share = days_after / (days_before + days_after)
        p_value = float(binomtest(after, n, share).pvalue)
    else:
        p_value = 1.0
    return BeforeAfter(
        weekly=weekly,
        before=before,
        after=after,
        days_before=days_before,
        days_after=days_after,
        per_week_before=rate_before,
        per_week_after=rate_after,
        change=change,
        change_pct=change_pct,
        p_value=p_value,
        significant=bool(p_value < alpha),
    )
