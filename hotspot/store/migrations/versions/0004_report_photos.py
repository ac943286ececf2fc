"""Photos attached to reports (问题照片), stored by content hash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("ext", sa.String(length=8), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_report_photo_report_id_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_photo")),
    )
    with op.batch_alter_table("report_photo") as batch_op:
        batch_op.create_index(batch_op.f("ix_report_photo_report_id"), ["report_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_photo") as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_photo_report_id"))

    op.drop_table("report_photo")
