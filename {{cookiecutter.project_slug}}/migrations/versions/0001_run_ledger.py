"""Run ledger: pipeline runs, task attempts, each task's latest state, data checks, run lock.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Naive UTC with microseconds; MySQL/MariaDB need fsp=6 to keep them.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column(
            "started_at",
            UTC_DATETIME,
            nullable=False,
        ),
        sa.Column(
            "finished_at",
            UTC_DATETIME,
            nullable=True,
        ),
        sa.Column(
            "heartbeat_at",
            UTC_DATETIME,
            nullable=True,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("selection", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("code_version", sa.String(length=64), nullable=True),
        sa.Column("tasks_total", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
    )
    with op.batch_alter_table("pipeline_runs", schema=None) as batch_op:
        batch_op.create_index("ix_pipeline_runs_started_at", ["started_at"], unique=False)
        batch_op.create_index(
            "ix_pipeline_runs_status_started_at", ["status", "started_at"], unique=False
        )

    op.create_table(
        "run_lock",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column(
            "acquired_at",
            UTC_DATETIME,
            nullable=False,
        ),
        sa.Column(
            "heartbeat_at",
            UTC_DATETIME,
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_run_lock")),
    )
    op.create_table(
        "task_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("task", sa.String(length=255), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column(
            "started_at",
            UTC_DATETIME,
            nullable=True,
        ),
        sa.Column(
            "finished_at",
            UTC_DATETIME,
            nullable=True,
        ),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("output_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("rows_affected", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pipeline_runs.id"],
            name=op.f("fk_task_runs_run_id_pipeline_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_runs")),
        sa.UniqueConstraint("run_id", "task", "attempt", name="uq_task_runs_run_task_attempt"),
    )
    with op.batch_alter_table("task_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_runs_status_started_at", ["status", "started_at"], unique=False
        )
        batch_op.create_index(
            "ix_task_runs_task_status_finished_at", ["task", "status", "finished_at"], unique=False
        )

    op.create_table(
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
    op.create_table(
        "check_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_run_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("failing_rows", sa.Integer(), nullable=False),
        sa.Column("sample", sa.Text(), nullable=True),
        sa.Column(
            "checked_at",
            UTC_DATETIME,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["task_run_id"],
            ["task_runs.id"],
            name=op.f("fk_check_results_task_run_id_task_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_results")),
    )
    with op.batch_alter_table("check_results", schema=None) as batch_op:
        batch_op.create_index("ix_check_results_task_run_id", ["task_run_id"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MySQL, where an index
    # backs a foreign key.
    op.drop_table("task_latest")
    op.drop_table("check_results")
    op.drop_table("task_runs")
    op.drop_table("run_lock")
    op.drop_table("pipeline_runs")
