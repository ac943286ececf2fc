"""Opening the store: engines with SQLite pragmas, and schema migrations with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

from hotspot.config import database_url

__all__ = ["current_revision", "head_revision", "make_engine", "migrate", "open_store"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while an import writes; the busy timeout makes a
    # second writer wait instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for ``url`` (see :func:`hotspot.config.database_url`).

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL or SQLite path; defaults to the configured store.

    Returns
    -------
    sqlalchemy.Engine
    """
    url = database_url(url)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (creating it in an empty database).

    Parameters
    ----------
    engine : sqlalchemy.Engine
    revision : str, default "head"
    """
    command.upgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The migration revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest migration revision this version of the code ships."""
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def open_store(url: str | None = None) -> Engine:
    """Open the store and migrate it to the current schema if needed.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL or SQLite path; defaults to the configured store.

    Returns
    -------
    sqlalchemy.Engine
    """
    engine = make_engine(url)
    if current_revision(engine) != head_revision():
        migrate(engine)
    return engine
