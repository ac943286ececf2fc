"""Column types shared by SQLite and PostgreSQL: geometry as WKB or as PostGIS geometry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import LargeBinary, func
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import UserDefinedType

__all__ = ["Geometry"]


class PostGISGeometry(UserDefinedType):
    """A PostGIS ``geometry(Geometry, 4326)`` column that speaks WKB to Python."""

    cache_ok = True

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        # Reflection passes the type modifiers it parsed; the column is always this one.
        super().__init__()

    def get_col_spec(self, **kw: Any) -> str:
        """Return the column DDL."""
        return "geometry(Geometry,4326)"

    def bind_expression(self, bindvalue):
        """Wrap bound WKB so PostGIS stores a geometry."""
        return func.ST_GeomFromWKB(bindvalue, 4326)

    def column_expression(self, col):
        """Select the geometry back as WKB."""
        return func.ST_AsBinary(col, type_=self)

    def result_processor(self, dialect, coltype):
        """Return WKB as bytes (psycopg gives memoryview)."""

        def process(value):
            return None if value is None else bytes(value)

        return process


# Reflection (Alembic's compare_metadata, inspect) knows PostGIS columns as this type
# rather than warning about an unknown one, as GeoAlchemy2 registers its own.
ischema_names.setdefault("geometry", PostGISGeometry)

#: WKB geometry in WGS84: a BLOB on SQLite, a PostGIS geometry on PostgreSQL.
Geometry = LargeBinary().with_variant(PostGISGeometry(), "postgresql")
