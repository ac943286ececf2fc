"""Settings: the database URL and paths, from arguments, the environment or defaults."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR", "DEFAULT_DB_PATH", "PROJECT_ROOT", "database_url"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DB_PATH = DATA_DIR / "hotspot.db"
ENV_DATABASE_URL = "HOTSPOT_DATABASE_URL"


def database_url(explicit: str | None = None) -> str:
    """The database to use: ``explicit``, else ``HOTSPOT_DATABASE_URL``, else the SQLite file.

    Parameters
    ----------
    explicit : str, optional
        A SQLAlchemy URL or a path to an SQLite file.

    Returns
    -------
    str
        A SQLAlchemy URL.
    """
    url = explicit or os.environ.get(ENV_DATABASE_URL) or str(DEFAULT_DB_PATH)
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    return url
