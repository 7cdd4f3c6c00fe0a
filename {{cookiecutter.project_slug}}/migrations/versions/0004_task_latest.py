"""Each task's latest execution and latest success, read at the start of every run.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Naive UTC with microseconds; MySQL/MariaDB need fsp=6 to keep them.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    table = op.create_table(
        "task_latest",
        sa.Column("task", sa.String(length=255), nullable=False),
        sa.Column("last_run_id", sa.String(length=64), nullable=True),
        sa.Column("last_status", sa.String(length=20), nullable=True),
        sa.Column("last_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("last_at", UTC_DATETIME, nullable=True),
        sa.Column("success_run_id", sa.String(length=64), nullable=True),
        sa.Column("success_at", UTC_DATETIME, nullable=True),
        sa.Column("success_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("success_output", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("task", name=op.f("pk_task_latest")),
    )
    _backfill(table)


def _backfill(table: sa.Table) -> None:
    """Fill the table from the history already in task_runs."""
    runs = sa.table(
        "task_runs",
        sa.column("id"),
        sa.column("run_id"),
        sa.column("task"),
        sa.column("status"),
        sa.column("started_at"),
        sa.column("finished_at"),
        sa.column("fingerprint"),
        sa.column("output_fingerprint"),
    )
    bind = op.get_bind()
    executed = sa.and_(runs.c.started_at.is_not(None), runs.c.status != "skipped")
    last = sa.select(sa.func.max(runs.c.id)).where(executed).group_by(runs.c.task)
    good = sa.select(sa.func.max(runs.c.id)).where(runs.c.status == "success").group_by(runs.c.task)
    latest: dict[str, dict] = {}
    for row in bind.execute(sa.select(runs).where(runs.c.id.in_(last))):
        latest[row.task] = {
            "task": row.task,
            "last_run_id": row.run_id,
            "last_status": row.status,
            "last_fingerprint": row.fingerprint,
            "last_at": row.finished_at or row.started_at,
        }
    for row in bind.execute(sa.select(runs).where(runs.c.id.in_(good))):
        latest.setdefault(row.task, {"task": row.task}).update(
            success_run_id=row.run_id,
            success_at=row.finished_at,
            success_fingerprint=row.fingerprint,
            success_output=row.output_fingerprint,
        )
    columns = [c.name for c in table.columns]
    if latest:
        op.bulk_insert(table, [{c: item.get(c) for c in columns} for item in latest.values()])


def downgrade() -> None:
    op.drop_table("task_latest")
