"""Stores for the tests: a SQLite file, or a fresh PostgreSQL database under ``--store``.

Every test that needs a store gets its URL from :func:`new_store_url`. With the default
``--store sqlite`` that is a file in the test's temporary folder; with
``--store postgresql`` it is a new database made from the server's PostGIS template
(``CREATE DATABASE ... TEMPLATE``), dropped again (cutting off its users) when the
fixture that made it is torn down, or after the test whose own body made it.

The server is the one ``HOTSPOT_TEST_POSTGRES_URL`` names (a database on it to use as
the template, e.g. ``postgresql+psycopg://hotspot@127.0.0.1:54329/hotspot_template``);
without it the session starts a throwaway cluster with ``.ci/postgres`` and stops it
at the end. When neither works the tests that need the server are skipped with the
reason, or, under CI (``CI`` set), the session stops with it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url

__all__ = [
    "STORES",
    "begin_fixture",
    "configure",
    "drop_stores",
    "end_fixture",
    "finish",
    "new_store_url",
    "store_kind",
    "take_loose_stores",
]

#: The stores the suite runs against (``--store``).
STORES = ("sqlite", "postgresql")
#: Names the server's URL; without it a cluster is started with ``.ci/postgres``.
ENV_URL = "HOTSPOT_TEST_POSTGRES_URL"
#: Folder of a cluster ``.ci/postgres`` started (``$DIR/data`` is its data directory).
ENV_DIR = "HOTSPOT_TEST_POSTGRES_DIR"
_ROOT = Path(__file__).resolve().parents[1]
_PG_CTL = "/usr/lib/postgresql/15/bin/pg_ctl"


@dataclass
class _Server:
    """The PostgreSQL server of this session, once asked for."""

    template: URL | None = None  # the template database's URL
    started_dir: str | None = None  # set when this session started the cluster
    failure: str | None = None  # why there is no server
    created: list[str] = field(default_factory=list)  # databases not dropped yet
    making: list[list[str]] = field(default_factory=list)  # per fixture being set up
    loose: list[str] = field(default_factory=list)  # made by a test's own body
    migrated: str | None = None  # the database new_store_url(migrated=True) copies


_kind = "sqlite"
_server = _Server()
_counter = itertools.count(1)


def configure(kind: str) -> None:
    """Choose the store every test runs against (``"sqlite"`` or ``"postgresql"``)."""
    global _kind
    if kind not in STORES:
        raise ValueError(f"unknown store {kind!r}; expected one of {STORES}")
    _kind = kind


def store_kind() -> str:
    """The store this session runs against: ``"sqlite"`` or ``"postgresql"``."""
    return _kind


def new_store_url(
    tmp_path: Path, name: str = "store", *, kind: str | None = None, migrated: bool = False
) -> str:
    """The URL of a new store for one test, holding no rows.

    Parameters
    ----------
    tmp_path : pathlib.Path
        The test's temporary folder (the SQLite file goes there).
    name : str, default "store"
        The SQLite file's stem; tells apart several stores in one folder.
    kind : str, optional
        ``"sqlite"`` or ``"postgresql"`` whatever ``--store`` says. A PostgreSQL store
        asked for under ``--store sqlite`` needs ``HOTSPOT_TEST_POSTGRES_URL`` (no
        cluster is started for it) and is skipped without it.
    migrated : bool, default False
        On PostgreSQL, a copy of a database this session migrated once, so that
        :func:`hotspot.store.engine.open_store` has nothing left to do (a tenth of a
        second less per test). Otherwise nothing exists at the URL yet (a SQLite file
        always starts so).

    Returns
    -------
    str
        A SQLAlchemy URL for :func:`hotspot.store.engine.open_store`.
    """
    kind = kind or _kind
    if kind == "sqlite":
        return f"sqlite:///{Path(tmp_path) / name}.db"
    if kind != "postgresql":
        raise ValueError(f"unknown store {kind!r}; expected one of {STORES}")
    template = _template(may_start=_kind == "postgresql")
    source = _migrated_template(template) if migrated else template.database
    database = _copy(template, source, f"t_{os.getpid()}_{next(_counter)}")
    _server.created.append(database)
    (_server.making[-1] if _server.making else _server.loose).append(database)
    return template.set(database=database).render_as_string(hide_password=False)


def _copy(template: URL, source: str, database: str) -> str:
    """Create ``database`` as a copy of ``source``; return its name."""
    import psycopg

    attempts = 4
    while True:
        try:
            with _admin(template) as conn:
                conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{source}" STRATEGY FILE_COPY')
            return database
        except psycopg.errors.ObjectInUse:  # someone is connected to the template
            attempts -= 1
            if not attempts:
                raise
            time.sleep(1)


def _migrated_template(template: URL) -> str:
    """The name of this session's database at the head revision, made on first use."""
    if _server.migrated is None:
        from hotspot.store.engine import open_store

        database = _copy(template, template.database, f"t_{os.getpid()}_head")
        _server.migrated = database
        open_store(template.set(database=database).render_as_string(hide_password=False)).dispose()
    return _server.migrated


def begin_fixture() -> None:
    """A fixture is being set up: the databases made until :func:`end_fixture` are its."""
    _server.making.append([])


def end_fixture() -> list[str]:
    """The databases the fixture set up since :func:`begin_fixture` made, to drop after it."""
    return _server.making.pop()


def take_loose_stores() -> list[str]:
    """The databases a test's own body made (not a fixture), to drop after the test."""
    loose, _server.loose = _server.loose, []
    return loose


def drop_stores(databases: list[str]) -> None:
    """Drop ``databases`` (names :func:`new_store_url` made), cutting off their users."""
    doomed = [name for name in databases if name in _server.created]
    if not doomed:
        return
    _server.created = [name for name in _server.created if name not in doomed]
    with _admin(_server.template) as conn:
        for database in reversed(doomed):
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def finish() -> None:
    """Drop every database still there; stop and delete a cluster this session started."""
    try:
        if _server.template is not None:
            if _server.migrated is not None:
                _server.created.insert(0, _server.migrated)
                _server.migrated = None
            drop_stores(list(_server.created))
    finally:
        if _server.started_dir is not None:
            data = Path(_server.started_dir) / "data"
            command = ["runuser", "-u", "postgres", "--", _PG_CTL, "-D", str(data)]
            stop = subprocess.run([*command, "stop", "-m", "fast"], capture_output=True)
            if stop.returncode == 0:  # the throwaway cluster's folder goes too
                shutil.rmtree(_server.started_dir, ignore_errors=True)
            _server.started_dir = None


def _admin(template: URL):
    """An autocommit connection to the server's ``postgres`` database (not the template).

    Connected to the template itself, it could not be copied by a second session.
    """
    import psycopg

    url = template.set(drivername="postgresql", database="postgres")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _template(*, may_start: bool) -> URL:
    """The template database's URL; skips (or, under CI, stops the session) without one."""
    if _server.template is None and _server.failure is None:
        _server.failure = _find_server(may_start=may_start)
    if _server.failure is not None:
        reason = f"no PostgreSQL server for the tests: {_server.failure}"
        if os.environ.get("CI"):
            pytest.exit(reason, returncode=pytest.ExitCode.TESTS_FAILED)
        pytest.skip(reason)
    assert _server.template is not None
    return _server.template


def _find_server(*, may_start: bool) -> str | None:
    """Set ``_server.template``; return why that failed, or None."""
    url = os.environ.get(ENV_URL)
    if not url:
        if not may_start:
            return f"{ENV_URL} is not set (run with --store postgresql to start one)"
        try:
            url = _start_cluster()
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            return f"{ENV_URL} is not set and .ci/postgres failed: {error}"
    try:
        template = make_url(url)
        with _admin(template):
            pass
    except Exception as error:  # any reason to not reach it is a reason to skip
        return f"{ENV_URL}={url} does not answer: {' '.join(str(error).split())}"
    _server.template = template
    return None


def _start_cluster() -> str:
    """Start a throwaway cluster with ``.ci/postgres``; return its template URL."""
    done = subprocess.run(
        ["bash", str(_ROOT / ".ci" / "postgres")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    exports = {}
    for line in done.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            key, value = line.removeprefix("export ").split("=", 1)
            exports[key.strip()] = value.strip()
    if exports.get(ENV_DIR):
        _server.started_dir = exports[ENV_DIR]
    if done.returncode != 0 or ENV_URL not in exports:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"exit status {done.returncode}: {tail}")
    return exports[ENV_URL]
