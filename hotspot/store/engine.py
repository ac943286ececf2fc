"""Opening the store: engines with SQLite pragmas, and schema migrations with Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Index, create_engine, event, make_url, text

from hotspot.config import database_url
from hotspot.store.schema import index_applies, metadata

__all__ = [
    "comparison_options",
    "copy_database",
    "current_revision",
    "downgrade",
    "drop_database",
    "head_revision",
    "make_engine",
    "migrate",
    "open_store",
    "schema_differences",
]

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


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back down to ``revision`` (each migration's ``downgrade``).

    Parameters
    ----------
    engine : sqlalchemy.Engine
    revision : str
    """
    command.downgrade(_alembic_config(engine), revision)


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


#: Tables that PostGIS creates in the database: not ours, never compared or dropped.
POSTGIS_TABLES = frozenset({"spatial_ref_sys"})


def comparison_options(dialect_name: str) -> dict[str, Any]:
    """Alembic autogenerate options that compare the store with the schema fairly.

    ``include_name`` leaves out the tables PostGIS brings along; ``include_object``
    leaves out a declared index where its dialect does not build it (Alembic ignores
    ``Index.ddl_if``; the GiST indexes are PostgreSQL's only, see
    :func:`hotspot.store.schema.index_applies`). The migrations' ``env.py`` and
    :func:`schema_differences` both use them.

    Parameters
    ----------
    dialect_name : str
        ``"sqlite"`` or ``"postgresql"``.

    Returns
    -------
    dict
        ``include_name`` and ``include_object`` for ``MigrationContext.configure`` /
        ``context.configure``.
    """

    def include_name(name: str | None, type_: str, _parents: dict[str, Any]) -> bool:
        return not (type_ == "table" and name in POSTGIS_TABLES)

    def include_object(obj: Any, _name, type_: str, reflected: bool, _compare_to) -> bool:
        if type_ == "index" and not reflected and isinstance(obj, Index):
            return index_applies(obj, dialect_name)
        return True

    return {"include_name": include_name, "include_object": include_object}


def schema_differences(engine: Engine) -> list:
    """What Alembic's ``compare_metadata`` finds between the database and the schema.

    With :func:`comparison_options`: an empty list means the migrations built exactly
    the declared schema, on SQLite as on PostgreSQL.

    Parameters
    ----------
    engine : sqlalchemy.Engine

    Returns
    -------
    list
        Alembic's diff entries.
    """
    opts = {**comparison_options(engine.dialect.name), "compare_type": True}
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _maintenance_engine(url: str) -> Engine:
    """An autocommit engine on the server's ``postgres`` database.

    Not on the template: a session connected to it would stop another one copying it.
    """
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def copy_database(template_url: str, name: str) -> str:
    """Create the PostgreSQL database ``name`` as a copy of the one ``template_url`` names.

    A database of that name is dropped first. Nobody may be connected to the template
    meanwhile.

    Parameters
    ----------
    template_url : str
        URL of the template database (e.g. one with the postgis extension).
    name : str
        The new database.

    Returns
    -------
    str
        The URL of the new database (the template's with the database replaced).
    """
    url = make_url(template_url)
    admin = _maintenance_engine(template_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)"))
            conn.execute(
                text(
                    f"CREATE DATABASE {_quoted(name)} TEMPLATE {_quoted(url.database)} "
                    "STRATEGY FILE_COPY"
                )
            )
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database ``url`` names, cutting off its other sessions.

    Parameters
    ----------
    url : str
    """
    admin = _maintenance_engine(url)
    try:
        with admin.connect() as conn:
            database = _quoted(make_url(url).database)
            conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
    finally:
        admin.dispose()
