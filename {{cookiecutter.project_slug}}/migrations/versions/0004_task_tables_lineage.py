"""Table lineage: ``task_tables``, the tables each task attempt read and wrote.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_tables",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_run_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=255), nullable=False),
        sa.Column("access", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_run_id"],
            ["task_runs.id"],
            name=op.f("fk_task_tables_task_run_id_task_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_tables")),
    )
    op.create_index("ix_task_tables_task_run_id", "task_tables", ["task_run_id"])
    op.create_index("ix_task_tables_table_name_access", "task_tables", ["table_name", "access"])


def downgrade() -> None:
    # Dropping the table drops its indexes (on MySQL an index backs the foreign key).
    op.drop_table("task_tables")
