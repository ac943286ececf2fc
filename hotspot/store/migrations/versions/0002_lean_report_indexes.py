"""Lean report indexes for bulk imports: drop unused ones, external id as a unique index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_DROPPED = {
    "ix_report_category": ["category"],
    "ix_report_status": ["status"],
    "ix_report_zone_id": ["zone_id"],
    "ix_report_category_reported_at": ["category", "reported_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("report") as batch_op:
        for name in _DROPPED:
            batch_op.drop_index(name)
        batch_op.drop_constraint("uq_report_external_id", type_="unique")
        batch_op.create_index("ix_report_external_id", ["external_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("report") as batch_op:
        batch_op.drop_index("ix_report_external_id")
        batch_op.create_unique_constraint("uq_report_external_id", ["external_id"])
        for name, columns in _DROPPED.items():
            batch_op.create_index(name, columns, unique=False)
