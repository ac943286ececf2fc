"""Status changes of a report (工单流转), safe when two people change it at once.

Every change bumps the report's ``version``. A change names the version its author saw
(``expected_version``); the update only applies where the stored version is still that
one, so of two people who opened the same report the second is told that it changed
instead of silently overwriting the first (optimistic locking; the same on SQLite and
PostgreSQL, with no lock held while a person decides).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from hotspot import audit, taxonomy
from hotspot.errors import UserError
from hotspot.filters import EVERYTHING, Scope
from hotspot.store import schema
from hotspot.store.frames import scope_conditions

__all__ = ["CaseState", "StaleReport", "StatusChange", "case_state", "change_status"]

_ACTOR_LENGTH = schema.report_event.c.actor.type.length


class StaleReport(UserError):
    """The report changed since its version was read: reload it and try again."""


@dataclass(frozen=True)
class CaseState:
    """A report's current status and version."""

    report_id: int
    status: str
    version: int


@dataclass(frozen=True)
class StatusChange:
    """A status change that was stored: the report's old and new status, its new version."""

    report_id: int
    from_status: str
    to_status: str
    version: int
    at: dt.datetime


def _status_name(status: str) -> str:
    return taxonomy.STATUS_NAMES[status][0]


def case_state(engine: Engine, report_id: int, scope: Scope = EVERYTHING) -> CaseState:
    """The current status and version of report ``report_id``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    report_id : int
    scope : Scope, optional
        Whose view: a report outside it is reported as missing.

    Returns
    -------
    CaseState

    Raises
    ------
    UserError
        There is no such report (in ``scope``).
    """
    report = schema.report
    statement = select(report.c.status, report.c.version).where(
        report.c.id == report_id, *scope_conditions(scope, report.c.community_id, report.c.cell)
    )
    with engine.connect() as conn:
        row = conn.execute(statement).one_or_none()
    if row is None:
        raise UserError(f"no report {report_id}")
    return CaseState(report_id=report_id, status=row.status, version=int(row.version))


def _stale(engine: Engine, report_id: int) -> StaleReport:
    now = case_state(engine, report_id)
    return StaleReport(
        f"report {report_id} was changed by someone else (now version {now.version}, "
        f"status {_status_name(now.status)}); reload and try again"
    )


def change_status(
    engine: Engine,
    report_id: int,
    to_status: str,
    *,
    expected_version: int,
    actor: str,
    note: str | None = None,
    now: dt.datetime | None = None,
    scope: Scope = EVERYTHING,
) -> StatusChange:
    """Move a report to ``to_status`` if it is still at ``expected_version``.

    The status, ``version + 1`` and the times (``resolved_at`` when resolved and
    cleared when a failed check sends it back to 整改中, ``closed_at`` when closed) are
    written by one ``UPDATE ... WHERE id = :id AND version = :expected``, and the
    ``report_event`` row in the same transaction.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    report_id : int
    to_status : str
        A status code (see :data:`hotspot.taxonomy.STATUSES`).
    expected_version : int
        The version the change was decided on.
    actor : str
        Who changes it (kept in the event log, at most 50 characters).
    note : str, optional
    now : datetime.datetime, optional
        When; the current time by default.
    scope : Scope, optional
        The actor's view: a report outside it is reported as missing.

    Returns
    -------
    StatusChange

    Raises
    ------
    StaleReport
        The report is no longer at ``expected_version`` (someone else changed it).
    UserError
        No such report (in ``scope``), no actor, or a change the workflow does not allow
        (:func:`hotspot.taxonomy.check_transition`).
    """
    now = (now or dt.datetime.now()).replace(microsecond=0)
    actor = (actor or "").strip()
    if not actor:
        raise UserError("a status change needs the name of who makes it")
    current = case_state(engine, report_id, scope)
    if current.version != expected_version:
        raise _stale(engine, report_id)
    try:
        taxonomy.check_transition(current.status, to_status)
    except ValueError as exc:
        raise UserError(f"report {report_id}: {exc}") from None
    report = schema.report
    values: dict = {"status": to_status, "version": report.c.version + 1}
    if to_status == "resolved":
        values["resolved_at"] = now
    elif to_status == "closed":
        values["closed_at"] = now
    elif taxonomy.is_rework(current.status, to_status):
        values["resolved_at"] = None
    # The UPDATE comes first in its transaction: on SQLite it takes the write lock (or
    # waits for it) before reading, so the version it checks is the latest one.
    statement = (
        update(report)
        .where(report.c.id == report_id, report.c.version == expected_version)
        .values(values)
    )
    with engine.begin() as conn:
        changed = conn.execute(statement).rowcount == 1
        if changed:
            conn.execute(
                insert(schema.report_event).values(
                    report_id=report_id,
                    at=now,
                    actor=actor[:_ACTOR_LENGTH],
                    from_status=current.status,
                    to_status=to_status,
                    note=(note or "").strip() or None,
                )
            )
            change = f"{current.status} -> {to_status}"
            audit.record(conn, actor, "status_change", f"report {report_id}", change, at=now)
    if not changed:
        raise _stale(engine, report_id)
    return StatusChange(
        report_id=report_id,
        from_status=current.status,
        to_status=to_status,
        version=expected_version + 1,
        at=now,
    )
