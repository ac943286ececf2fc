"""The audit log (操作日志): who logged in, changed a status, imported or exported, and when."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select

from hotspot.store import schema

__all__ = ["ACTIONS", "read_audit", "record"]

#: Logged actions and their names (zh, en).
ACTIONS: dict[str, tuple[str, str]] = {
    "login": ("登录", "Login"),
    "login_failed": ("登录失败", "Failed login"),
    "logout": ("退出", "Logout"),
    "status_change": ("状态变更", "Status change"),
    "report_created": ("上报问题", "Report created"),
    "import": ("导入", "Import"),
    "export": ("导出", "Export"),
    "operation_recorded": ("记录行动", "Operation recorded"),
    "operation_deleted": ("删除行动", "Operation deleted"),
    "user_added": ("新建账号", "Account added"),
    "user_disabled": ("停用账号", "Account disabled"),
    "password_set": ("修改密码", "Password set"),
}

_TARGET_LENGTH = schema.audit_log.c.target.type.length
_ACTOR_LENGTH = schema.audit_log.c.actor.type.length


def record(
    where: Engine | Connection,
    actor: str,
    action: str,
    target: str | None = None,
    detail: str | None = None,
    *,
    at: dt.datetime | None = None,
) -> None:
    """Add one entry to the audit log.

    Parameters
    ----------
    where : sqlalchemy.Engine or sqlalchemy.Connection
        A connection writes inside its transaction (the entry then stands or falls
        with the change it records); an engine commits the entry on its own.
    actor : str
        The username (``cli`` for the command line without ``--as-user``).
    action : str
        A key of :data:`ACTIONS`.
    target, detail : str, optional
        What was acted on (a report id, a file name, an account) and how.
    at : datetime.datetime, optional
        When; now by default.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    row = {
        "at": at or dt.datetime.now().replace(microsecond=0),
        "actor": actor[:_ACTOR_LENGTH],
        "action": action,
        "target": None if target is None else str(target)[:_TARGET_LENGTH],
        "detail": detail,
    }
    if isinstance(where, Connection):
        where.execute(insert(schema.audit_log), row)
    else:
        with where.begin() as conn:
            conn.execute(insert(schema.audit_log), row)


def read_audit(
    engine: Engine,
    *,
    actor: str | None = None,
    actions: tuple[str, ...] = (),
    since: dt.date | None = None,
    limit: int = 2000,
) -> pd.DataFrame:
    """The newest audit entries first.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    actor : str, optional
        Only this user's entries.
    actions : tuple of str
        Only these actions; all when empty.
    since : datetime.date, optional
        Only entries on or after this day.
    limit : int, default 2000

    Returns
    -------
    pandas.DataFrame
        Columns ``at``, ``actor``, ``action``, ``target``, ``detail``.
    """
    table = schema.audit_log
    statement = (
        select(table.c.at, table.c.actor, table.c.action, table.c.target, table.c.detail)
        .order_by(table.c.at.desc(), table.c.id.desc())
        .limit(limit)
    )
    if actor:
        statement = statement.where(table.c.actor == actor)
    if actions:
        statement = statement.where(table.c.action.in_(list(actions)))
    if since:
        statement = statement.where(table.c.at >= dt.datetime.combine(since, dt.time()))
    with engine.connect() as conn:
        rows = conn.execute(statement).all()
    frame = pd.DataFrame(rows, columns=["at", "actor", "action", "target", "detail"])
    frame["at"] = pd.to_datetime(frame["at"])
    return frame
