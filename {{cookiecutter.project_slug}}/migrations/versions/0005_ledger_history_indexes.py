"""Ledger history indexes: ``pipeline_runs`` on (started_at, id), so listing the newest runs
and choosing the runs to prune walk one index however many runs the ledger holds.

It replaces the index on ``started_at`` alone (the new one serves every query that used it)
and the one on ``(status, started_at)`` stays for the running-run look-ups.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_pipeline_runs_started_at_id", "pipeline_runs", ["started_at", "id"])
    op.drop_index("ix_pipeline_runs_started_at", table_name="pipeline_runs")


def downgrade() -> None:
    op.create_index("ix_pipeline_runs_started_at", "pipeline_runs", ["started_at"])
    op.drop_index("ix_pipeline_runs_started_at_id", table_name="pipeline_runs")
