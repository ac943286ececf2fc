"""Initial schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from hotspot.store.types import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "community",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("geom", Geometry, nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community")),
        sa.UniqueConstraint("code", name=op.f("uq_community_code")),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meta")),
    )
    op.create_table(
        "street",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("geom", Geometry, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_street")),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_app_user_community_id_community")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "grid_cell",
        sa.Column("cell", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_worker", sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_grid_cell_community_id_community")
        ),
        sa.PrimaryKeyConstraint("cell", name=op.f("pk_grid_cell")),
    )
    with op.batch_alter_table("grid_cell", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grid_cell_community_id"), ["community_id"], unique=False
        )

    op.create_table(
        "storefront_zone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_name", sa.String(length=100), nullable=False),
        sa.Column("business_type", sa.String(length=50), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("licence_status", sa.String(length=20), nullable=False),
        sa.Column("agreement_signed", sa.Boolean(), nullable=False),
        sa.Column("agreement_signed_at", sa.Date(), nullable=True),
        sa.Column("responsible_person", sa.String(length=50), nullable=True),
        sa.Column("responsible_phone", sa.String(length=30), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("street_id", sa.Integer(), nullable=True),
        sa.Column("geom", Geometry, nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_storefront_zone_community_id_community"),
        ),
        sa.ForeignKeyConstraint(
            ["street_id"], ["street.id"], name=op.f("fk_storefront_zone_street_id_street")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_zone")),
    )
    with op.batch_alter_table("storefront_zone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_storefront_zone_cell"), ["cell"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_storefront_zone_community_id"), ["community_id"], unique=False
        )

    op.create_table(
        "patrol",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("patrolled_at", sa.DateTime(), nullable=False),
        sa.Column("inspector", sa.String(length=50), nullable=False),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("compliant", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["storefront_zone.id"], name=op.f("fk_patrol_zone_id_storefront_zone")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol")),
    )
    with op.batch_alter_table("patrol", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("geom", Geometry, nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("orig_x", sa.Float(), nullable=True),
        sa.Column("orig_y", sa.Float(), nullable=True),
        sa.Column("orig_crs", sa.String(length=20), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("reporter_name", sa.String(length=50), nullable=True),
        sa.Column("reporter_phone", sa.String(length=30), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("demolished_m2", sa.Float(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("relapse_of", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_report_community_id_community")
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["report.id"], name=op.f("fk_report_duplicate_of_report")
        ),
        sa.ForeignKeyConstraint(
            ["relapse_of"], ["report.id"], name=op.f("fk_report_relapse_of_report")
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["storefront_zone.id"], name=op.f("fk_report_zone_id_storefront_zone")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
        sa.UniqueConstraint("external_id", name=op.f("uq_report_external_id")),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_category"), ["category"], unique=False)
        batch_op.create_index(
            "ix_report_category_reported_at", ["category", "reported_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_report_cell"), ["cell"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_reported_at"), ["reported_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "report_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=50), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_report_event_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_event")),
    )
    with op.batch_alter_table("report_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_event_report_id"), ["report_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_event_report_id"))

    op.drop_table("report_event")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_zone_id"))
        batch_op.drop_index(batch_op.f("ix_report_status"))
        batch_op.drop_index(batch_op.f("ix_report_reported_at"))
        batch_op.drop_index(batch_op.f("ix_report_community_id"))
        batch_op.drop_index(batch_op.f("ix_report_cell"))
        batch_op.drop_index("ix_report_category_reported_at")
        batch_op.drop_index(batch_op.f("ix_report_category"))

    op.drop_table("report")
    with op.batch_alter_table("patrol", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_zone_id"))

    op.drop_table("patrol")
    with op.batch_alter_table("storefront_zone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storefront_zone_community_id"))
        batch_op.drop_index(batch_op.f("ix_storefront_zone_cell"))

    op.drop_table("storefront_zone")
    with op.batch_alter_table("grid_cell", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grid_cell_community_id"))

    op.drop_table("grid_cell")
    op.drop_table("app_user")
    op.drop_table("street")
    op.drop_table("meta")
    op.drop_table("community")
