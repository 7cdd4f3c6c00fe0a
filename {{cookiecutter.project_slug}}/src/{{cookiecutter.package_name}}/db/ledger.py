"""The run ledger: ``pipeline_runs``, ``task_runs`` and ``check_results`` on one engine.

``Ledger`` makes the run-level writes (open, close, crashed runs) synchronously and answers the
engine's reads through the shared read model (``ledger_reads``). Task rows are written by
``LedgerWriter`` (``ledger_writer``), a background thread with group commit.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import TypedDict

from sqlalchemy import Connection, Engine, func, select

from ..sqltyping import AnyRow
from ..status import OPEN_TASK_STATES, RunState, TaskState
from . import ledger_reads as reads
from .ledger_reads import TaskHistory
from .ledger_writer import LedgerWriter
from .models import LATEST, RUNS, TASKS

__all__ = ["Ledger", "LedgerWriter", "RunRow", "TaskHistory", "selection_json"]


class RunRow(TypedDict, total=False):
    """The ``pipeline_runs`` row of a run that is starting."""

    id: str
    started_at: datetime
    heartbeat_at: datetime
    status: str
    selection: str
    host: str
    pid: int
    code_version: str | None
    tasks_total: int


class Ledger:
    """Synchronous reads and run-level writes on one engine."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def finish_run(self, run_id: str, status: str, finished_at: datetime) -> None:
        """Close a run: its final status and end time."""
        with self.engine.begin() as conn:
            conn.execute(
                RUNS.update()
                .where(RUNS.c.id == run_id)
                .values(status=status, finished_at=finished_at, heartbeat_at=finished_at)
            )

    def open_run(self, run: RunRow, now: datetime) -> list[str]:
        """Mark runs left running by dead processes crashed, then insert ``run``; one commit.

        Call it only while holding the run lock: then no other run can be alive.
        """
        with self.engine.begin() as conn:
            crashed = _mark_crashed(conn, now, keep=run["id"])
            conn.execute(RUNS.insert(), [run])
        return crashed

    def mark_crashed(self, now: datetime, keep: str | None = None) -> list[str]:
        """Runs still running (their process died): mark them and their open rows crashed."""
        with self.engine.begin() as conn:
            return _mark_crashed(conn, now, keep)

    def close_open_rows(self, run_id: str, now: datetime) -> None:
        """Mark a run's rows still running as crashed (the run loop itself failed)."""
        with self.engine.begin() as conn:
            conn.execute(
                TASKS.update()
                .where(TASKS.c.run_id == run_id, TASKS.c.status == TaskState.RUNNING)
                .values(
                    status=TaskState.CRASHED, finished_at=now, reason="the run stopped unexpectedly"
                )
            )
            _latest_crashed(conn, [run_id])

    def history(self, tasks: Collection[str]) -> dict[str, TaskHistory]:
        """Per task of ``tasks``: the last execution (skips excluded) and the last success."""
        with self.engine.connect() as conn:
            return reads.task_history(conn, tasks)

    def last_run(self, exclude: str | None = None) -> AnyRow | None:
        """The most recent run of the pipeline (a ``test`` is not one), or None."""
        with self.engine.connect() as conn:
            return reads.newest_run(conn, exclude, runs_only=True)

    def table_writers(self) -> dict[str, str]:
        """Which task writes each table, from each task's latest success (its lineage)."""
        with self.engine.connect() as conn:
            return reads.table_writers(conn)

    def get_run(self, run_id: str) -> AnyRow | None:
        """One run, or None."""
        with self.engine.connect() as conn:
            return reads.run_row(conn, run_id)

    def task_rows(self, run_id: str) -> list[AnyRow]:
        """Every attempt row of a run, in the order they were recorded."""
        with self.engine.connect() as conn:
            return reads.attempt_rows(conn, run_id)

    def final_states(self, run_id: str) -> dict[str, str]:
        """Each task's state in a run: the status of its last attempt."""
        with self.engine.connect() as conn:
            return reads.final_states(conn, run_id)


def _mark_crashed(conn: Connection, now: datetime, keep: str | None) -> list[str]:
    query = select(RUNS.c.id).where(RUNS.c.status == RunState.RUNNING)
    if keep is not None:
        query = query.where(RUNS.c.id != keep)
    ids = list(conn.scalars(query))
    if not ids:
        return []
    ended = func.coalesce(RUNS.c.heartbeat_at, RUNS.c.started_at)
    conn.execute(
        RUNS.update().where(RUNS.c.id.in_(ids)).values(status=RunState.CRASHED, finished_at=ended)
    )
    conn.execute(
        TASKS.update()
        .where(TASKS.c.run_id.in_(ids), TASKS.c.status.in_(OPEN_TASK_STATES))
        .values(status=TaskState.CRASHED, finished_at=now, reason="the run's process died")
    )
    _latest_crashed(conn, ids)
    return ids


def _latest_crashed(conn: Connection, run_ids: list[str]) -> None:
    """Tasks whose attempt died with its run: their latest execution is now crashed."""
    crashed = select(TASKS.c.task).where(
        TASKS.c.run_id.in_(run_ids), TASKS.c.status == TaskState.CRASHED
    )
    conn.execute(
        LATEST.update().where(LATEST.c.task.in_(crashed)).values(last_status=TaskState.CRASHED)
    )


def selection_json(**fields: object) -> str:
    """The ``selection`` column: what was asked, as stable JSON."""
    return json.dumps(fields, sort_keys=True, default=str)
