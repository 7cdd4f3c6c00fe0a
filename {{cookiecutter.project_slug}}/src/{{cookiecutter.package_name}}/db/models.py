"""ORM models of the run ledger: every run, every task attempt, every data check, the tables
each attempt read and wrote, the run lock.

Times are naive UTC with microseconds on every dialect. The indexes serve the engine's
look-ups (last successful fingerprint of a task) and the dashboard's pages.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .metadata import UtcDateTime


class PipelineRun(Base):
    """One ``run`` command: what was asked, where it ran and how it ended."""

    __tablename__ = "pipeline_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20))
    selection: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    code_version: Mapped[str | None] = mapped_column(String(64))
    tasks_total: Mapped[int | None] = mapped_column(Integer)

    task_runs: Mapped[list[TaskRun]] = relationship(back_populates="run")

    __table_args__ = (
        # newest first (``runs``, the dashboard) and oldest first (``runs prune``) on one index
        Index("ix_pipeline_runs_started_at_id", "started_at", "id"),
        Index("ix_pipeline_runs_status_started_at", "status", "started_at"),
    )


class TaskRun(Base):
    """One attempt of one task in one run; skips and upstream failures get a row too."""

    __tablename__ = "task_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # Hash of the compiled SQL a task returned: an unchanged query over unchanged inputs is
    # not materialized again.
    output_fingerprint: Mapped[str | None] = mapped_column(String(64))
    rows_affected: Mapped[int | None] = mapped_column(Integer)

    run: Mapped[PipelineRun] = relationship(back_populates="task_runs")
    checks: Mapped[list[CheckResult]] = relationship(back_populates="task_run")

    __table_args__ = (
        UniqueConstraint("run_id", "task", "attempt", name="uq_task_runs_run_task_attempt"),
        Index("ix_task_runs_task_status_finished_at", "task", "status", "finished_at"),
        Index("ix_task_runs_status_started_at", "status", "started_at"),
        # each task's latest row (max id per task) without scanning its whole history
        Index("ix_task_runs_task_id", "task", "id"),
    )


class CheckResult(Base):
    """The outcome of one data check after a task's materialization."""

    __tablename__ = "check_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_run_id: Mapped[int] = mapped_column(ForeignKey("task_runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    failing_rows: Mapped[int] = mapped_column(Integer, default=0)
    sample: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime)

    task_run: Mapped[TaskRun] = relationship(back_populates="checks")

    __table_args__ = (Index("ix_check_results_task_run_id", "task_run_id"),)


class TableAccess(StrEnum):
    """How a task run used a table (``task_tables.access``)."""

    READ = "read"
    WRITE = "write"


class TaskTable(Base):
    """Lineage: one table that one attempt read or wrote, by its published name."""

    __tablename__ = "task_tables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_run_id: Mapped[int] = mapped_column(ForeignKey("task_runs.id", ondelete="CASCADE"))
    table_name: Mapped[str] = mapped_column(String(255))
    access: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        Index("ix_task_tables_task_run_id", "task_run_id"),
        # who wrote a table (the run's undeclared-read warning, the dashboard's table nodes)
        Index("ix_task_tables_table_name_access", "table_name", "access"),
    )


class RunLock(Base):
    """The one-run-at-a-time lock: a single row per lock name, naming its holder."""

    __tablename__ = "run_lock"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TaskLatest(Base):
    """Each task's latest execution and latest success, kept current by the run ledger.

    The engine reads this at the start of every run (cache, ttl and schedule decisions): one
    row per task, so that start stays fast however long the history in ``task_runs`` grows.
    """

    __tablename__ = "task_latest"

    task: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_run_id: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_fingerprint: Mapped[str | None] = mapped_column(String(64))
    last_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    success_run_id: Mapped[str | None] = mapped_column(String(64))
    success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    success_fingerprint: Mapped[str | None] = mapped_column(String(64))
    success_output: Mapped[str | None] = mapped_column(String(64))


# The tables, for SQLAlchemy Core statements (the ledger, its reads and the run lock); a
# declarative class's __table__ is typed as any FromClause, these are Tables.
RUNS = cast(Table, PipelineRun.__table__)
TASKS = cast(Table, TaskRun.__table__)
CHECKS = cast(Table, CheckResult.__table__)
TABLES = cast(Table, TaskTable.__table__)
LATEST = cast(Table, TaskLatest.__table__)
LOCKS = cast(Table, RunLock.__table__)
