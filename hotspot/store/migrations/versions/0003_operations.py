"""Concentrated operations (集中执法行动) and the cells they covered.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("categories", sa.Text(), nullable=True),
        sa.Column("units", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation")),
    )
    op.create_table(
        "operation_cell",
        sa.Column("operation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operation.id"],
            name=op.f("fk_operation_cell_operation_id_operation"),
        ),
        sa.PrimaryKeyConstraint("operation_id", "cell", name=op.f("pk_operation_cell")),
    )
    with op.batch_alter_table("operation_cell") as batch_op:
        batch_op.create_index(batch_op.f("ix_operation_cell_cell"), ["cell"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("operation_cell") as batch_op:
        batch_op.drop_index(batch_op.f("ix_operation_cell_cell"))

    op.drop_table("operation_cell")
    op.drop_table("operation")
