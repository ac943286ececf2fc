"""The store's tables, one SQLAlchemy Core schema for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from hotspot.store.types import Geometry

__all__ = [
    "SPATIAL_TABLES",
    "app_user",
    "community",
    "grid_cell",
    "index_applies",
    "meta",
    "metadata",
    "operation",
    "operation_cell",
    "patrol",
    "report",
    "report_event",
    "report_photo",
    "storefront_zone",
    "street",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Key-value facts about the store: schema notes, whether it holds demo data and its seed.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

community = Table(
    "community",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("geom", Geometry, nullable=False),
    Column("area_m2", Float, nullable=False),
)

#: The community grid: H3 cells at the grid resolution whose centres fall inside a community.
grid_cell = Table(
    "grid_cell",
    metadata,
    Column("cell", BigInteger, primary_key=True, autoincrement=False),
    Column("community_id", Integer, ForeignKey("community.id"), nullable=False, index=True),
    Column("grid_worker", String(50)),
)

street = Table(
    "street",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("geom", Geometry, nullable=False),
)

#: 门前三包责任区: a narrow polygon along a shop's street frontage.
storefront_zone = Table(
    "storefront_zone",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_name", String(100), nullable=False),
    Column("business_type", String(50)),
    Column("address", String(200)),
    Column("licence_status", String(20), nullable=False),
    Column("agreement_signed", Boolean, nullable=False),
    Column("agreement_signed_at", Date),
    Column("responsible_person", String(50)),
    Column("responsible_phone", String(30)),
    Column("community_id", Integer, ForeignKey("community.id"), index=True),
    Column("street_id", Integer, ForeignKey("street.id")),
    Column("geom", Geometry, nullable=False),
    Column("area_m2", Float, nullable=False),
    Column("cell", BigInteger, nullable=False, index=True),
)

patrol = Table(
    "patrol",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("zone_id", Integer, ForeignKey("storefront_zone.id"), nullable=False, index=True),
    Column("patrolled_at", DateTime, nullable=False),
    Column("inspector", String(50), nullable=False),
    Column("findings", Text),
    Column("compliant", Boolean, nullable=False),
)

#: 问题/工单. Indexed only where lookups need it (date range, cell, community,
#: external id): every index costs a bulk import a sort or a random insert per row.
#: Geometry is a point, or a polygon footprint for footprint categories;
#: lng/lat is its representative point in WGS84 and ``cell`` that point's H3 cell
#: at the stored resolution (12) as a signed 64-bit integer.
report = Table(
    "report",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("external_id", String(64)),
    Column("category", String(40), nullable=False),
    Column("description", Text),
    Column("address", String(200)),
    Column("geom", Geometry, nullable=False),
    Column("area_m2", Float),
    Column("lng", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("orig_x", Float),
    Column("orig_y", Float),
    Column("orig_crs", String(20)),
    Column("reported_at", DateTime, nullable=False, index=True),
    Column("source", String(20)),
    Column("reporter_name", String(50)),
    Column("reporter_phone", String(30)),
    Column("status", String(20), nullable=False),
    Column("due_at", DateTime),
    Column("resolved_at", DateTime),
    Column("closed_at", DateTime),
    Column("demolished_m2", Float),
    Column("community_id", Integer, ForeignKey("community.id"), index=True),
    Column("zone_id", Integer, ForeignKey("storefront_zone.id")),
    Column("cell", BigInteger, nullable=False, index=True),
    Column("duplicate_of", Integer, ForeignKey("report.id")),
    Column("relapse_of", Integer, ForeignKey("report.id")),
    Column("version", Integer, nullable=False, server_default="1"),
)

# A unique index rather than a constraint, so that a bulk load can drop and rebuild it.
Index("ix_report_external_id", report.c.external_id, unique=True)

#: Every status change: who, when, from, to, note.
report_event = Table(
    "report_event",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("report.id"), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(50), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("note", Text),
)

#: Photos attached to a report: the file is ``<sha256>.<ext>`` in the photo folder
#: (:func:`hotspot.photos.photo_dir`); ``original_name`` is the uploaded name, sanitised.
report_photo = Table(
    "report_photo",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("report.id"), nullable=False, index=True),
    Column("sha256", String(64), nullable=False),
    Column("ext", String(8), nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("original_name", String(100)),
    Column("created_at", DateTime, nullable=False),
)

app_user = Table(
    "app_user",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(50), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("community_id", Integer, ForeignKey("community.id")),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime, nullable=False),
    # the person's name as the grid shows it (grid_cell.grid_worker): a grid worker's cells
    Column("full_name", String(50)),
    Column("last_login_at", DateTime),
)

#: Dashboard sessions: a browser's cookie holds the token, the store only its hash.
app_session = Table(
    "app_session",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("app_user.id"), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
)

#: 操作日志: who did what when (logins, status changes, imports, exports, accounts).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("actor", String(50), nullable=False),
    Column("action", String(30), nullable=False),
    Column("target", String(200)),
    Column("detail", Text),
)

#: 集中执法行动: a concentrated operation, for the before/after comparison of its cells.
#: ``categories`` holds the targeted category codes separated by spaces (NULL: all).
operation = Table(
    "operation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("started_on", Date, nullable=False),
    Column("ended_on", Date),
    Column("categories", Text),
    Column("units", String(200)),
    Column("note", Text),
    Column("created_at", DateTime, nullable=False),
)

#: The H3 cells an operation covered (the analysis resolution of the plan, usually 9).
operation_cell = Table(
    "operation_cell",
    metadata,
    Column(
        "operation_id",
        Integer,
        ForeignKey("operation.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("cell", BigInteger, primary_key=True, autoincrement=False, index=True),
)


#: The tables with a geometry column ``geom``: PostGIS geometries with a GiST index on
#: PostgreSQL (the layers QGIS lists), WKB blobs without an index on SQLite.
SPATIAL_TABLES = (community, street, storefront_zone, report)

for _table in SPATIAL_TABLES:
    # Only on PostgreSQL: ddl_if keeps it out of SQLite's DDL; Alembic's autogenerate
    # does not read ddl_if, so the dialect is also in ``info`` for index_applies.
    Index(
        f"ix_{_table.name}_geom",
        _table.c.geom,
        postgresql_using="gist",
        info={"dialect": "postgresql"},
    ).ddl_if(dialect="postgresql")


def index_applies(index: Index, dialect_name: str) -> bool:
    """Whether ``index`` exists on a database of ``dialect_name`` (GiST: PostgreSQL only).

    Parameters
    ----------
    index : sqlalchemy.Index
    dialect_name : str
        ``"sqlite"``, ``"postgresql"``.

    Returns
    -------
    bool
    """
    only_on = index.info.get("dialect")
    return only_on is None or only_on == dialect_name
