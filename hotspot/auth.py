"""Accounts, roles and what each role may see: password hashes, logins, sessions and scopes."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from hotspot import audit
from hotspot.errors import UserError
from hotspot.filters import Scope
from hotspot.store import schema
from hotspot.store.frames import resolve_community

__all__ = [
    "COMMUNITY_ROLES",
    "ROLES",
    "ROLE_PAGES",
    "LoginRefused",
    "User",
    "add_user",
    "authenticate",
    "close_session",
    "count_users",
    "disable_user",
    "hash_password",
    "idle_limit",
    "list_users",
    "load_user",
    "may_change_status",
    "may_import",
    "may_open",
    "open_session",
    "session_user",
    "set_password",
    "verify_password",
]

#: Roles (zh, en). Leaders browse; enforcement and admins also see personal data.
ROLES: dict[str, tuple[str, str]] = {
    "admin": ("管理员", "Administrator"),
    "leader": ("领导", "Leader"),
    "enforcement": ("执法队员", "Enforcement"),
    "community": ("社区", "Community"),
    "gridworker": ("网格员", "Grid worker"),
}
#: Roles bound to one community (and, for grid workers, to their own cells).
COMMUNITY_ROLES = frozenset({"community", "gridworker"})
#: Roles that see reporter names and phones as stored.
PERSONAL_DATA_ROLES = frozenset({"admin", "enforcement"})
#: Roles that may move a report along the workflow (leaders only look).
STATUS_ROLES = frozenset({"admin", "enforcement", "community", "gridworker"})
#: Roles that may import files of reports (an import covers the whole town).
IMPORT_ROLES = frozenset({"admin", "enforcement"})
#: The dashboard pages (their url paths) each role may open; the first is its start page.
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "admin": (
        "leader",
        "plan",
        "grid",
        "storefront-zones",
        "issue-map",
        "report-issue",
        "audit",
    ),
    "leader": ("leader", "plan", "grid", "storefront-zones", "issue-map"),
    "enforcement": ("leader", "plan", "grid", "storefront-zones", "issue-map", "report-issue"),
    "community": ("leader", "plan", "grid", "storefront-zones", "issue-map", "report-issue"),
    "gridworker": ("grid", "issue-map", "report-issue", "storefront-zones"),
}

MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"[\w.@-]{2,50}")
#: Failed logins in a row before each further attempt must wait (then 1 s, 2 s, 4 s … 5 min).
FREE_ATTEMPTS = 3
MAX_WAIT_SECONDS = 300
#: Every failed login is answered this much later, which slows down guessing.
FAILED_LOGIN_DELAY = 1.0
#: Minutes without activity after which a dashboard session ends (HOTSPOT_SESSION_IDLE_MINUTES).
DEFAULT_IDLE_MINUTES = 30
#: A session's last activity is written at most this often (one write a minute, not per click).
_TOUCH_EVERY = dt.timedelta(seconds=60)

# argon2id with the library's defaults (RFC 9106 low-memory profile)
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify unknown usernames against, so that they take as long as known ones."""
    return _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User:
    """A signed-in account: who, which role, and for community roles where."""

    username: str
    role: str
    community_id: int | None = None
    community_code: str | None = None
    full_name: str | None = None
    cells: tuple[int, ...] | None = None

    @property
    def scope(self) -> Scope:
        """What this user may see (see :class:`hotspot.filters.Scope`).

        A community or grid worker account that has lost its community, or a grid
        worker without cells, sees nothing: ``None`` would mean the whole town.
        """
        community_id = cells = None
        if self.role in COMMUNITY_ROLES:
            community_id = self.community_id
            if community_id is None:
                cells = ()
        if self.role == "gridworker":
            cells = self.cells if self.cells is not None and community_id is not None else ()
        return Scope(
            community_id=community_id,
            cells=cells,
            personal_data=self.role in PERSONAL_DATA_ROLES,
        )


class LoginRefused(UserError):
    """A login that did not succeed; ``wait`` seconds must pass before the next try."""

    def __init__(self, message: str, wait: float = 0.0) -> None:
        super().__init__(message)
        self.wait = wait


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; the parameters are in the hash)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False for a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def idle_limit() -> dt.timedelta:
    """How long a dashboard session may stay idle: ``HOTSPOT_SESSION_IDLE_MINUTES`` or 30 min."""
    raw = os.environ.get("HOTSPOT_SESSION_IDLE_MINUTES", "")
    minutes = float(raw) if re.fullmatch(r"\d+(\.\d+)?", raw.strip()) else DEFAULT_IDLE_MINUTES
    return dt.timedelta(minutes=minutes)


def may_change_status(user: User) -> bool:
    """Whether ``user``'s role may move reports along the workflow."""
    return user.role in STATUS_ROLES


def may_import(user: User) -> bool:
    """Whether ``user``'s role may import files of reports."""
    return user.role in IMPORT_ROLES


def may_open(user: User, page: str) -> bool:
    """Whether ``user``'s role may open the dashboard page with url path ``page``."""
    return page in ROLE_PAGES.get(user.role, ())


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password: at least {MIN_PASSWORD_LENGTH} characters")


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _worker_cells(engine: Engine, community_id: int, full_name: str) -> tuple[int, ...]:
    table = schema.grid_cell
    statement = (
        select(table.c.cell)
        .where(table.c.community_id == community_id, table.c.grid_worker == full_name)
        .order_by(table.c.cell)
    )
    with engine.connect() as conn:
        return tuple(int(cell) for cell in conn.execute(statement).scalars())


def add_user(
    engine: Engine,
    username: str,
    role: str,
    password: str,
    *,
    community: str | None = None,
    full_name: str | None = None,
    actor: str = "cli",
) -> User:
    """Create an account.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    username : str
        2–50 letters (Chinese too), digits or ``_ . @ -``.
    role : str
        A key of :data:`ROLES`.
    password : str
        At least :data:`MIN_PASSWORD_LENGTH` characters; only its argon2id hash is kept.
    community : str, optional
        Code or name of the community; required for the community and gridworker roles.
    full_name : str, optional
        The person's name; a grid worker's must be the name the grid lists for their
        cells (``grid_cell.grid_worker``).
    actor : str, default "cli"
        Who creates it, for the audit log.

    Returns
    -------
    User

    Raises
    ------
    UserError
        For a bad name, role, password or community, or a name already taken.
    """
    if not _USERNAME.fullmatch(username or ""):
        raise UserError(f"username {username!r}: use 2-50 letters, digits or _ . @ - (no spaces)")
    if role not in ROLES:
        raise UserError(f"role {role!r}: one of {', '.join(ROLES)}")
    _check_password(password)
    community_id = None
    if role in COMMUNITY_ROLES:
        if not community:
            raise UserError(f"role {role}: --community is required")
        community_id = resolve_community(engine, community)
        if community_id is None:
            raise UserError(f"community {community!r}: no such community (code or name)")
    elif community:
        raise UserError(f"role {role}: sees the whole town, --community does not apply")
    if role == "gridworker":
        if not full_name:
            raise UserError("role gridworker: --name (the name on the grid) is required")
        if not _worker_cells(engine, community_id, full_name):
            raise UserError(f"name {full_name!r}: no grid cell of {community} lists this worker")
    table = schema.app_user
    with engine.begin() as conn:
        taken = conn.execute(select(table.c.id).where(table.c.username == username)).first()
        if taken:
            raise UserError(f"username {username!r}: already taken")
        conn.execute(
            insert(table),
            {
                "username": username,
                "password_hash": hash_password(password),
                "role": role,
                "community_id": community_id,
                "full_name": full_name,
                "disabled": False,
                "created_at": _now(),
            },
        )
        audit.record(conn, actor, "user_added", username, role)
    user = load_user(engine, username)
    assert user is not None
    return user


def load_user(engine: Engine, username: str) -> User | None:
    """The enabled account ``username`` with its scope, or None."""
    table, community = schema.app_user, schema.community
    statement = (
        select(table.c.role, table.c.community_id, table.c.full_name, community.c.code)
        .select_from(table.outerjoin(community, table.c.community_id == community.c.id))
        .where(table.c.username == username, table.c.disabled.is_(False))
    )
    with engine.connect() as conn:
        row = conn.execute(statement).first()
    if row is None:
        return None
    cells = None
    if row.role == "gridworker":
        cells = _worker_cells(engine, row.community_id, row.full_name or "")
    return User(
        username=username,
        role=row.role,
        community_id=row.community_id,
        community_code=row.code,
        full_name=row.full_name,
        cells=cells,
    )


def list_users(engine: Engine) -> pd.DataFrame:
    """Every account (no hashes): username, role, community, full_name, disabled, logins."""
    table, community = schema.app_user, schema.community
    statement = (
        select(
            table.c.username,
            table.c.role,
            community.c.code.label("community"),
            table.c.full_name,
            table.c.disabled,
            table.c.created_at,
            table.c.last_login_at,
        )
        .select_from(table.outerjoin(community, table.c.community_id == community.c.id))
        .order_by(table.c.username)
    )
    with engine.connect() as conn:
        rows = conn.execute(statement).all()
    columns = ["username", "role", "community", "full_name", "disabled"]
    frame = pd.DataFrame(rows, columns=[*columns, "created_at", "last_login_at"], dtype=object)
    return frame.where(frame.notna(), None)


def _require_account(conn, username: str) -> int:
    table = schema.app_user
    found = conn.execute(select(table.c.id).where(table.c.username == username)).scalar()
    if found is None:
        raise UserError(f"username {username!r}: no such account")
    return int(found)


def disable_user(engine: Engine, username: str, *, actor: str = "cli") -> None:
    """Disable an account and end its sessions (it can no longer log in)."""
    table = schema.app_user
    with engine.begin() as conn:
        user_id = _require_account(conn, username)
        conn.execute(update(table).where(table.c.id == user_id).values(disabled=True))
        conn.execute(delete(schema.app_session).where(schema.app_session.c.user_id == user_id))
        audit.record(conn, actor, "user_disabled", username)


def set_password(engine: Engine, username: str, password: str, *, actor: str = "cli") -> None:
    """Replace an account's password (which clears its failed logins) and end its sessions."""
    _check_password(password)
    table = schema.app_user
    with engine.begin() as conn:
        user_id = _require_account(conn, username)
        conn.execute(
            update(table).where(table.c.id == user_id).values(password_hash=hash_password(password))
        )
        conn.execute(delete(schema.app_session).where(schema.app_session.c.user_id == user_id))
        audit.record(conn, actor, "password_set", username)


def _wait_needed(failed: int, last_failed_at: dt.datetime | None, now: dt.datetime) -> float:
    """Seconds still to wait after ``failed`` failures in a row, the last at ``last_failed_at``."""
    if failed < FREE_ATTEMPTS or last_failed_at is None:
        return 0.0
    backoff = min(2.0 ** (failed - FREE_ATTEMPTS), MAX_WAIT_SECONDS)
    return max(0.0, backoff - (now - last_failed_at).total_seconds())


#: Failed logins older than this no longer slow a name down.
_FAILURE_MEMORY = dt.timedelta(hours=24)


def _recent_failures(
    conn: Connection, username: str, now: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """Failed logins for ``username`` since its last login or password change: count, last.

    Read from the audit log, so that a name without an account is slowed down exactly
    like one with (the wait would otherwise tell which names exist). Attempts refused
    during a wait do not count, so a hurried user is not locked out for longer.
    """
    log = schema.audit_log
    window = now - _FAILURE_MEMORY
    reset = (
        select(func.max(log.c.at))
        .where(log.c.target == username, log.c.action.in_(["login", "password_set"]))
        .scalar_subquery()
    )
    statement = select(func.count(), func.max(log.c.at)).where(
        log.c.action == "login_failed",
        log.c.target == username,
        log.c.at >= window,
        log.c.at > func.coalesce(reset, window),
        (log.c.detail.is_(None)) | (log.c.detail != _THROTTLED),
    )
    count, last = conn.execute(statement).one()
    if isinstance(last, str):  # SQLite gives an aggregate of datetimes back as text
        last = dt.datetime.fromisoformat(last)
    return int(count), last


_THROTTLED = "throttled"


def authenticate(
    engine: Engine, username: str, password: str, *, now: dt.datetime | None = None
) -> User:
    """Check a login and log it; slow down repeated failures.

    After :data:`FREE_ATTEMPTS` failures in a row a username (whether it has an
    account or not) must wait 1 s, then 2 s, 4 s … up to 5 minutes between attempts
    (an attempt inside the wait is refused without looking at the password); every
    failure also answers :data:`FAILED_LOGIN_DELAY` seconds late.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    username, password : str
    now : datetime.datetime, optional
        The time of the attempt (tests).

    Returns
    -------
    User

    Raises
    ------
    LoginRefused
        A wrong name or password (one message for both), a disabled account, or an
        attempt inside the wait; ``wait`` says how long to wait.
    """
    now = now or _now()
    table = schema.app_user
    statement = select(table.c.id, table.c.password_hash, table.c.disabled).where(
        table.c.username == username
    )
    with engine.connect() as conn:
        row = conn.execute(statement).first()
        failed, last_failed_at = _recent_failures(conn, username, now)
    wait = _wait_needed(failed, last_failed_at, now)
    if wait > 0:
        audit.record(engine, username or "-", "login_failed", username, _THROTTLED, at=now)
        raise LoginRefused(f"too many failed logins: wait {wait:.0f} s", wait)
    valid = verify_password(row.password_hash if row else _dummy_hash(), password)
    if row is None or not valid or row.disabled:
        reason = "disabled" if row is not None and valid else "wrong name or password"
        audit.record(engine, username or "-", "login_failed", username, reason, at=now)
        time.sleep(FAILED_LOGIN_DELAY)
        raise LoginRefused("wrong username or password", _wait_needed(failed + 1, now, now))
    with engine.begin() as conn:
        values = {"last_login_at": now}
        if _hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = hash_password(password)
        conn.execute(update(table).where(table.c.id == row.id).values(**values))
        audit.record(conn, username, "login", username, at=now)
    user = load_user(engine, username)
    assert user is not None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(engine: Engine, user: User, *, now: dt.datetime | None = None) -> str:
    """Start a dashboard session for ``user``; return its token (kept only hashed here)."""
    now = now or _now()
    token = secrets.token_urlsafe(32)
    table = schema.app_user
    with engine.begin() as conn:
        user_id = conn.execute(
            select(table.c.id).where(table.c.username == user.username)
        ).scalar_one()
        conn.execute(
            insert(schema.app_session),
            {
                "token_hash": _token_hash(token),
                "user_id": user_id,
                "created_at": now,
                "last_seen_at": now,
            },
        )
    return token


def session_user(
    engine: Engine,
    token: str | None,
    *,
    now: dt.datetime | None = None,
    idle: dt.timedelta | None = None,
) -> User | None:
    """The user of a live session, marking it active; None for an unknown or idle one.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    token : str or None
    now : datetime.datetime, optional
    idle : datetime.timedelta, optional
        How long a session may stay unused; :func:`idle_limit` by default. An idle
        session is deleted.
    """
    if not token:
        return None
    now = now or _now()
    idle = idle if idle is not None else idle_limit()
    sessions, users = schema.app_session, schema.app_user
    key = _token_hash(token)
    statement = (
        select(users.c.username, users.c.disabled, sessions.c.last_seen_at)
        .select_from(sessions.join(users, sessions.c.user_id == users.c.id))
        .where(sessions.c.token_hash == key)
    )
    with engine.connect() as conn:
        row = conn.execute(statement).first()
    if row is None:
        return None
    if row.disabled or now - row.last_seen_at > idle:
        close_session(engine, token)
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(
                update(sessions).where(sessions.c.token_hash == key).values(last_seen_at=now)
            )
    return load_user(engine, row.username)


def close_session(engine: Engine, token: str | None) -> None:
    """End a session (logout); nothing happens for an unknown token."""
    if not token:
        return
    sessions = schema.app_session
    with engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.token_hash == _token_hash(token)))


def count_users(engine: Engine) -> int:
    """How many accounts exist (the dashboard explains how to create the first one)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.app_user)).scalar_one())
