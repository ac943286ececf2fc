"""Concentrated operations (集中执法行动): recording them and their before/after effect."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sqlalchemy import Engine, delete, func, insert, select

from geo.before_after import BeforeAfter, before_after
from geo.cells import GRID_RES, as_cells, cell_parents, cell_resolutions, cells_to_strings
from hotspot import audit, taxonomy
from hotspot.errors import UserError
from hotspot.filters import EVERYTHING, ReportFilter, Scope
from hotspot.store import frames, schema

__all__ = [
    "EFFECT_COLUMNS",
    "OPERATION_COLUMNS",
    "OperationEffect",
    "cells_touching",
    "delete_operation",
    "list_operations",
    "operation_effect",
    "record_operation",
]

#: Columns of :func:`list_operations`, in order.
OPERATION_COLUMNS = (
    "id",
    "name",
    "started_on",
    "ended_on",
    "categories",
    "units",
    "note",
    "created_at",
    "n_cells",
    "cells",
)
#: Columns of :attr:`OperationEffect.by_category`, in order.
EFFECT_COLUMNS = (
    "category",
    "category_name",
    "before",
    "after",
    "per_week_before",
    "per_week_after",
    "change",
    "change_pct",
    "p_value",
    "significant",
)
_NAME_LENGTH = schema.operation.c.name.type.length
_UNITS_LENGTH = schema.operation.c.units.type.length


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def record_operation(
    engine: Engine,
    name: str,
    started_on: dt.date,
    cells: ArrayLike,
    *,
    categories: Iterable[str] = (),
    ended_on: dt.date | None = None,
    units: str | None = None,
    note: str | None = None,
    created_at: dt.datetime | None = None,
    scope: Scope = EVERYTHING,
    actor: str = "cli",
) -> int:
    """Store an operation and the cells it covered.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    name : str
        What the operation is called (行动名称), up to 100 characters.
    started_on : datetime.date
        Its first day; the after period of the before/after comparison starts here.
    cells : array_like of str or int64
        The H3 cells it covered, all at one resolution (the plan's analysis resolution).
    categories : iterable of str, optional
        Category codes it targeted; none means all.
    ended_on : datetime.date, optional
        Its last day, if known.
    units : str, optional
        Units taking part (参与单位), up to 200 characters.
    note : str, optional
    created_at : datetime.datetime, optional
        When it was recorded; now by default.
    scope : Scope, optional
        Who records it: every cell must touch the scope's grid cells.
    actor : str, default "cli"
        Who records it, for the audit log.

    Returns
    -------
    int
        The new operation's id.

    Raises
    ------
    UserError
        No name or a name too long, no cells, cells at mixed resolutions, a cell outside
        ``scope``, an unknown category, or an end before the start.
    """
    name = _clean(name)
    if name is None:
        raise UserError("an operation needs a name")
    if len(name) > _NAME_LENGTH:
        raise UserError(f"an operation's name has at most {_NAME_LENGTH} characters")
    units = _clean(units)
    if units is not None and len(units) > _UNITS_LENGTH:
        raise UserError(f"the units have at most {_UNITS_LENGTH} characters")
    try:
        cells = np.unique(as_cells(cells))
    except (ValueError, TypeError) as exc:
        raise UserError(f"not H3 cells: {exc}") from None
    if cells.size == 0:
        raise UserError("an operation needs at least one cell")
    if np.unique(cell_resolutions(cells)).size != 1:
        raise UserError("an operation's cells must all be at one resolution")
    if not _all_in_scope(engine, cells, scope):
        raise UserError("an operation's cells must lie in your area")
    codes = sorted(set(categories))
    unknown = sorted(set(codes) - set(taxonomy.load_categories().index))
    if unknown:
        raise UserError(f"unknown category {unknown[0]!r}")
    if ended_on is not None and ended_on < started_on:
        raise UserError(f"the operation ends ({ended_on}) before it starts ({started_on})")

    row = {
        "name": name,
        "started_on": started_on,
        "ended_on": ended_on,
        "categories": " ".join(codes) or None,
        "units": units,
        "note": _clean(note),
        "created_at": created_at or dt.datetime.now().replace(microsecond=0),
    }
    with engine.begin() as conn:
        operation_id = int(conn.execute(insert(schema.operation), row).inserted_primary_key[0])
        conn.execute(
            insert(schema.operation_cell),
            [{"operation_id": operation_id, "cell": cell} for cell in cells.tolist()],
        )
        detail = f"{name}: {cells.size} cells from {started_on}"
        audit.record(conn, actor, "operation_recorded", f"operation {operation_id}", detail)
    return operation_id


def _all_in_scope(engine: Engine, cells: np.ndarray, scope: Scope) -> bool:
    """Whether every one of ``cells`` touches the scope's grid cells."""
    if scope.whole_town:
        return True
    grid = frames.read_grid_cells(engine, scope=scope)["cell"].to_numpy(dtype=np.int64)
    return bool(cells_touching(cells, grid).all())


def delete_operation(
    engine: Engine, operation_id: int, *, scope: Scope = EVERYTHING, actor: str = "cli"
) -> bool:
    """Remove an operation and its cells; return whether it existed.

    A scoped user (``scope``) may remove only an operation all of whose cells touch the
    scope: one that reaches into another community is not theirs alone, and is left.
    The removal is written to the audit log as ``actor``'s.
    """
    if not scope.whole_town:
        with engine.connect() as conn:
            cells = conn.execute(
                select(schema.operation_cell.c.cell).where(
                    schema.operation_cell.c.operation_id == operation_id
                )
            ).scalars()
            cells = np.fromiter(cells, dtype=np.int64)
        if cells.size == 0 or not _all_in_scope(engine, cells, scope):
            return False
    with engine.begin() as conn:
        conn.execute(
            delete(schema.operation_cell).where(
                schema.operation_cell.c.operation_id == operation_id
            )
        )
        gone = conn.execute(delete(schema.operation).where(schema.operation.c.id == operation_id))
        if gone.rowcount:
            audit.record(conn, actor, "operation_deleted", f"operation {operation_id}")
    return bool(gone.rowcount)


def cells_touching(cells: ArrayLike, grid_cells: ArrayLike) -> np.ndarray:
    """Whether each H3 cell overlaps the grid cells (by index: ancestor or descendant).

    Parameters
    ----------
    cells : array_like of int64
        Cells at any resolutions from 0 to 15 (an operation's, at its plan's resolution).
    grid_cells : array_like of int64
        Cells at :data:`geo.cells.GRID_RES` (a scope's part of the town).

    Returns
    -------
    numpy.ndarray of bool
        Aligned with ``cells``: a coarser cell touches when it holds a grid cell, a finer
        one when it lies in one.
    """
    cells = np.asarray(cells, dtype=np.int64)
    grid = np.unique(np.asarray(grid_cells, dtype=np.int64))
    touching = np.zeros(cells.size, dtype=bool)
    resolutions = cell_resolutions(cells)
    for res in np.unique(resolutions).tolist():  # a handful of resolutions, not rows
        at = resolutions == res
        if res <= GRID_RES:
            touching[at] = np.isin(cells[at], cell_parents(grid, res))
        else:
            touching[at] = np.isin(cell_parents(cells[at], GRID_RES), grid)
    return touching


def list_operations(engine: Engine, *, scope: Scope = EVERYTHING) -> pd.DataFrame:
    """Every recorded operation in ``scope``, the latest start first.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    scope : Scope, optional
        Whose view: only the operations with a cell touching the scope's grid cells
        (:func:`cells_touching`), each with just those of its cells.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`OPERATION_COLUMNS`: ``categories`` is a tuple of category
        codes (empty: all), ``cells`` a tuple of H3 strings (sorted), ``started_on`` and
        ``ended_on`` are dates (``ended_on`` None when open-ended).
    """
    table, cell_table = schema.operation, schema.operation_cell
    with engine.connect() as conn:
        rows = conn.execute(
            select(table).order_by(table.c.started_on.desc(), table.c.id.desc())
        ).all()
        links = conn.execute(
            select(cell_table.c.operation_id, cell_table.c.cell).order_by(
                cell_table.c.operation_id, cell_table.c.cell
            )
        ).all()
    operations = pd.DataFrame(rows, columns=[c.name for c in table.columns])
    links = pd.DataFrame(links, columns=["operation_id", "cell"])
    if not scope.whole_town:
        # Operation cells are at a plan's resolution, not the grid's: compare by index.
        grid = frames.read_grid_cells(engine, scope=scope)["cell"].to_numpy(dtype=np.int64)
        links = links[cells_touching(links["cell"].to_numpy(dtype=np.int64), grid)]
        operations = operations[operations["id"].isin(links["operation_id"])]
    if operations.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OPERATION_COLUMNS})
    strings = pd.Series(cells_to_strings(links["cell"].to_numpy(dtype=np.int64)), dtype=object)
    cells = strings.groupby(links["operation_id"].to_numpy()).agg(tuple)
    operations["cells"] = [cells.get(i, ()) for i in operations["id"]]
    operations["n_cells"] = operations["cells"].map(len)
    operations["categories"] = [
        tuple(c.split()) if isinstance(c, str) else () for c in operations["categories"]
    ]
    for column in ("name", "units", "note", "started_on", "ended_on"):
        values = operations[column].astype(object)
        operations[column] = values.where(values.notna(), None)
    operations["created_at"] = pd.to_datetime(operations["created_at"])
    return operations[list(OPERATION_COLUMNS)].reset_index(drop=True)


@dataclass(frozen=True)
class OperationEffect:
    """Reports in an operation's cells before and after it started, in all and by category.

    Attributes
    ----------
    operation : dict
        The operation, as a row of :func:`list_operations`.
    total : geo.before_after.BeforeAfter
        All targeted categories together.
    by_category : pandas.DataFrame
        One row per category with reports in either period, the columns of
        :data:`EFFECT_COLUMNS`, the largest drop first.
    weekly : pandas.DataFrame
        Reports per week and category: ``week`` (first day), ``period`` ('before' or
        'after'), ``days`` covered, ``category``, ``category_name``, ``n_reports``.
    data_until : datetime.date
        The last day the comparison counted.
    """

    operation: dict
    total: BeforeAfter
    by_category: pd.DataFrame
    weekly: pd.DataFrame
    data_until: dt.date


def _last_report_day(engine: Engine) -> dt.date | None:
    with engine.connect() as conn:
        last = conn.execute(select(func.max(schema.report.c.reported_at))).scalar()
    return None if last is None else pd.Timestamp(last).date()


def operation_effect(
    engine: Engine,
    operation_id: int,
    *,
    weeks: int = 4,
    data_until: dt.date | None = None,
    scope: Scope = EVERYTHING,
) -> OperationEffect:
    """The before/after effect of a stored operation, in all and by targeted category.

    The same comparison as :func:`hotspot.analysis.operation_effect` (reports of the
    targeted categories in the operation's cells, ``weeks`` weeks either side of its
    start, an exact test of the two weekly rates), read once and split by category.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    operation_id : int
    weeks : int, default 4
        Weeks on each side.
    data_until : datetime.date, optional
        Last day with data; by default the day of the store's latest report (so a
        recent operation is compared on the days that are in).
    scope : Scope, optional
        Whose view: an operation touching none of the scope's cells is not found, and
        only the scope's reports are counted (in the scope's part of its cells).

    Returns
    -------
    OperationEffect

    Raises
    ------
    UserError
        No such operation (in ``scope``), or no data from its start on yet.
    """
    operations = list_operations(engine, scope=scope)
    found = operations[operations["id"] == operation_id]
    if found.empty:
        raise UserError(f"no operation with id {operation_id}")
    operation = found.iloc[0].to_dict()
    started = operation["started_on"]
    if data_until is None:
        # The whole town's last day, not the scope's: a community without reports in
        # the last days has zero counts there, which the comparison must include.
        data_until = _last_report_day(engine)
    if data_until is None or data_until < started:
        raise UserError(f"no reports from the operation's start ({started}) on yet")
    data_until = min(data_until, started + dt.timedelta(weeks=weeks, days=-1))

    filters = ReportFilter(
        categories=operation["categories"],
        since=started - dt.timedelta(weeks=weeks),
        until=data_until,
        scope=scope,
    )
    reports = frames.read_reports(engine, filters)
    cells = as_cells(operation["cells"])
    res = int(cell_resolutions(cells[:1])[0])
    inside = np.isin(cell_parents(reports["cell"].to_numpy(dtype=np.int64), res), cells)
    here = pd.DataFrame(reports.loc[inside, ["category", "reported_at"]])

    def compare(times: np.ndarray) -> BeforeAfter:
        return before_after(times, operation_date=started, weeks=weeks, data_until=data_until)

    total = compare(here["reported_at"].to_numpy(dtype="datetime64[ns]"))
    # Every targeted category, with reports or not, and any other found in the cells.
    codes = sorted(set(operation["categories"]) | set(here["category"]))
    names = taxonomy.load_categories()["name_zh"]
    rows, weekly = [], []
    for code in codes:
        times = here.loc[here["category"] == code, "reported_at"]
        result = compare(times.to_numpy(dtype="datetime64[ns]"))
        name = names.get(code, code)
        rows.append({"category": code, "category_name": name, **result.as_dict()})
        weekly.append(result.weekly.assign(category=code, category_name=name))
    by_category = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    if len(by_category):
        by_category = by_category.sort_values(
            ["change", "category"], ascending=[True, True], ignore_index=True
        )
    weekly_columns = ["week", "period", "days", "category", "category_name", "n_reports"]
    weekly_frame = (
        pd.concat(weekly, ignore_index=True)[weekly_columns]
        if weekly
        else pd.DataFrame({c: pd.Series(dtype=object) for c in weekly_columns})
    )
    return OperationEffect(
        operation=operation,
        total=total,
        by_category=by_category,
        weekly=weekly_frame,
        data_until=data_until,
    )
