"""The report filters shared by the pages, the services and the command line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["ReportFilter"]


@dataclass(frozen=True)
class ReportFilter:
    """Which reports to select; an empty field selects everything.

    Attributes
    ----------
    categories : tuple of str
        Category codes.
    layers : tuple of str
        Map layers (categories.csv ``layer``).
    community : str or None
        Community code or name.
    since, until : datetime.date or None
        Inclusive range of the report date.
    statuses : tuple of str
        Status codes.
    """

    categories: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    community: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    statuses: tuple[str, ...] = ()
