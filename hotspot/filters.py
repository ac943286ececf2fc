"""Report filters shared by pages, services and command line, and the scope of whose view."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["EVERYTHING", "ReportFilter", "Scope"]


@dataclass(frozen=True)
class Scope:
    """What one user may see: the reports, cells and zones of a part of the town.

    The services narrow every read to the scope of the filters they are given,
    so a page or an export never has to remember it (see :mod:`hotspot.auth` for
    the scope of each role).

    Attributes
    ----------
    community_id : int or None
        Only this community's cells (and their reports and zones); None: all.
    cells : tuple of int or None
        Only these grid cells (resolution ``GRID_RES``), a grid worker's; None:
        every cell of ``community_id``.
    personal_data : bool
        Whether reporter names and phones (and storefront contacts) are shown
        as stored; otherwise they are masked (张*, 138****5678).
    photos : bool
        Whether the photos of the reports in scope may be opened.
    """

    community_id: int | None = None
    cells: tuple[int, ...] | None = None
    personal_data: bool = False
    photos: bool = True

    @property
    def whole_town(self) -> bool:
        """Whether nothing is narrowed (only the masking may differ)."""
        return self.community_id is None and self.cells is None


#: The operator's scope (the command line without ``--as-user``): all of it, unmasked.
EVERYTHING = Scope(personal_data=True)


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
    scope : Scope
        Whose view this is; the services never read past it.
    """

    categories: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    community: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    statuses: tuple[str, ...] = ()
    scope: Scope = EVERYTHING
