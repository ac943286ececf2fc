"""GiST indexes on the geometry columns, on PostgreSQL (PostGIS); nothing on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: The tables whose ``geom`` column gets a GiST index (``ix_<table>_geom``).
_TABLES = ("community", "street", "storefront_zone", "report")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.drop_index(f"ix_{table}_geom", table_name=table)
