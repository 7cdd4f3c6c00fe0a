"""The dashboard's reads of the run ledger: runs, task attempts and data-check results.

The statements come from the ledger's read model (``db.ledger_reads``), the one the CLI uses, so
"latest" and "failed" mean the same on every page as in ``runs``, ``show-run`` and ``list``.
Each function takes an open connection and returns only what one page shows: aggregates are
computed in SQL, lists are paged with LIMIT/OFFSET, and the filters follow the ledger's indexes
(``started_at``, ``status, started_at``, ``run_id, task, attempt``, ``task, status, finished_at``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

import pandas as pd
from sqlalchemy import Connection, func, inspect, select

from ...db import ledger_reads as reads
from ...db.ledger_reads import RunFilter
from ...db.models import CHECKS, LATEST, RUNS, TASKS
from ...sqltyping import AnySelect
from ...status import CHECK_FAILURES, TASK_FAILURES, TaskState
from ..tracebacks import headline

__all__ = [
    "LEDGER_TABLES",
    "ActiveRun",
    "RunFilter",
    "RunSummary",
    "active_run",
    "count_runs",
    "daily_outcomes",
    "failed_checks",
    "failed_tasks",
    "final_task_counts",
    "last_task_statuses",
    "ledger_missing",
    "recent_durations",
    "recent_run_ids",
    "run_attempts",
    "run_checks",
    "run_header",
    "run_statuses",
    "run_summary",
    "runs_page",
    "task_names",
]

LEDGER_TABLES = ("pipeline_runs", "task_runs", "check_results")
# What the lists of runs show of each.
_RUN_COLUMNS = (
    RUNS.c.id,
    RUNS.c.status,
    RUNS.c.started_at,
    RUNS.c.finished_at,
    RUNS.c.tasks_total,
    RUNS.c.selection,
)
# What the Tables page says of a build its checks refused.
_FAILED_CHECK_COLUMNS = (
    TASKS.c.task,
    TASKS.c.run_id,
    TASKS.c.finished_at,
    CHECKS.c.name,
    CHECKS.c.status,
    CHECKS.c.failing_rows,
    LATEST.c.success_run_id,
    LATEST.c.success_at,
)
# The task counts of the Runs page: column -> the final states it counts.
_COUNTED = {
    "ok": (TaskState.SUCCESS,),
    TaskState.SKIPPED.value: (TaskState.SKIPPED,),
    TaskState.FAILED.value: tuple(TASK_FAILURES),
}


def ledger_missing(conn: Connection) -> list[str]:
    """The run-ledger tables this database lacks (all of them before `make migrate`)."""
    present = set(inspect(conn).get_table_names())
    return [name for name in LEDGER_TABLES if name not in present]


def _frame(conn: Connection, query: AnySelect) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


class RunSummary(TypedDict):
    """Runs in all and the last start; since a given time, the runs, successes and failures."""

    runs: int
    last_started: datetime | None
    recent: int
    ok: int
    bad: int


def run_summary(conn: Connection, since: datetime) -> RunSummary:
    """Run counts overall and since ``since``, and how many of the recent ones succeeded."""
    row = conn.execute(reads.run_summary_query(since)).one()._mapping
    return RunSummary(
        runs=int(row["runs"] or 0),
        last_started=row["last_started"],
        recent=int(row["recent"] or 0),
        ok=int(row["ok"] or 0),
        bad=int(row["bad"] or 0),
    )


def recent_run_ids(conn: Connection, limit: int) -> pd.DataFrame:
    """The newest runs: id, status and times (for pickers and the latest-runs table)."""
    return _frame(conn, reads.runs_query(*_RUN_COLUMNS).limit(limit))


def daily_outcomes(conn: Connection, since: datetime) -> pd.DataFrame:
    """Runs per day and status since ``since`` (one row per day and status)."""
    frame = _frame(conn, reads.daily_outcomes_query(since))
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def recent_durations(conn: Connection, limit: int) -> pd.DataFrame:
    """Start, duration (seconds) and status of the newest finished runs, oldest first."""
    frame = _frame(conn, reads.recent_durations_query(limit)).iloc[::-1].reset_index(drop=True)
    frame["seconds"] = _seconds(frame["started_at"], frame["finished_at"])
    return frame


class ActiveRun(TypedDict):
    """The run in progress: its ledger row's times and size, and its tasks counted by state."""

    id: str
    started_at: datetime
    heartbeat_at: datetime | None
    tasks_total: int | None
    counts: dict[str, int]


def active_run(conn: Connection) -> ActiveRun | None:
    """The newest run still marked running, with its tasks counted by state, or None."""
    row = reads.running_run(conn)
    if row is None:
        return None
    counts = final_task_counts(conn, (row.id,))
    return ActiveRun(
        id=row.id,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        tasks_total=row.tasks_total,
        counts=dict(zip(counts["status"], counts["tasks"])) if len(counts) else {},
    )


def final_task_counts(conn: Connection, run_ids: Sequence[str]) -> pd.DataFrame:
    """Tasks per run and final status (a task's last attempt decides its status)."""
    if not run_ids:
        return pd.DataFrame(columns=["run_id", "status", "tasks", "rows"])
    return _frame(conn, reads.final_counts_query(run_ids))


def failed_tasks(conn: Connection, run_id: str) -> pd.DataFrame:
    """The tasks of a run that failed, with the line of the error that says what failed."""
    frame = _frame(conn, reads.failed_tasks_query(run_id))
    frame["error"] = frame["error"].map(headline)
    return frame


def run_statuses(conn: Connection) -> list[str]:
    """Every run status present in the ledger (for the status filter)."""
    query = select(RUNS.c.status).distinct().order_by(RUNS.c.status)
    return list(conn.execute(query).scalars())


def task_names(conn: Connection) -> list[str]:
    """Every task name the ledger has seen (for the task filter)."""
    return sorted(conn.execute(reads.task_names_query(conn.dialect.name)).scalars())


def count_runs(conn: Connection, filters: RunFilter) -> int:
    """How many runs match the filters."""
    query = select(func.count()).select_from(RUNS).where(*filters.conditions(conn.dialect.name))
    return int(conn.execute(query).scalar_one())


def runs_page(conn: Connection, filters: RunFilter, limit: int, offset: int) -> pd.DataFrame:
    """One page of matching runs, newest first, with their tasks counted by final status."""
    query = reads.runs_query(*_RUN_COLUMNS, RUNS.c.host).where(
        *filters.conditions(conn.dialect.name)
    )
    frame = _frame(conn, query.limit(limit).offset(offset))
    frame["seconds"] = _seconds(frame["started_at"], frame["finished_at"])
    counts = final_task_counts(conn, tuple(frame["id"]))
    for column, statuses in _COUNTED.items():
        frame[column] = _count_for(frame["id"], counts, statuses)
    return frame


def _count_for(ids: pd.Series, counts: pd.DataFrame, statuses: Sequence[str]) -> pd.Series:
    chosen = counts[counts["status"].isin(statuses)].groupby("run_id")["tasks"].sum()
    return ids.map(chosen).fillna(0).astype(int)


def run_header(conn: Connection, run_id: str) -> dict[str, object] | None:
    """One run's ledger row, or None when there is no such run."""
    row = reads.run_row(conn, run_id)
    return dict(row._mapping) if row is not None else None


def run_attempts(conn: Connection, run_id: str) -> pd.DataFrame:
    """Every attempt of every task of one run, in the order they started."""
    order = (TASKS.c.started_at, TASKS.c.task, TASKS.c.attempt)
    return _frame(conn, reads.attempts_query(run_id).order_by(*order))


def run_checks(conn: Connection, run_id: str) -> pd.DataFrame:
    """The data-check results recorded for one run's task attempts."""
    order = (TASKS.c.task, TASKS.c.attempt, CHECKS.c.id)
    return _frame(conn, reads.checks_query(run_id).order_by(*order))


def failed_checks(conn: Connection, tasks: Sequence[str]) -> pd.DataFrame:
    """Per task: the checks that failed in its latest attempt that ran checks (nothing when
    they all passed), that attempt's run and time, and the run of the task's last success."""
    if not tasks:
        return pd.DataFrame(columns=[column.name for column in _FAILED_CHECK_COLUMNS])
    checked = (
        select(func.max(TASKS.c.id).label("id"))
        .join(CHECKS, CHECKS.c.task_run_id == TASKS.c.id)
        .where(TASKS.c.task.in_(tasks))
        .group_by(TASKS.c.task)
        .subquery()
    )
    query = (
        select(*_FAILED_CHECK_COLUMNS)
        .select_from(TASKS)
        .join(checked, TASKS.c.id == checked.c.id)
        .join(CHECKS, CHECKS.c.task_run_id == TASKS.c.id)
        .outerjoin(LATEST, LATEST.c.task == TASKS.c.task)
        .where(CHECKS.c.status.in_(CHECK_FAILURES))
        .order_by(TASKS.c.task, CHECKS.c.id)
    )
    return _frame(conn, query)


def last_task_statuses(conn: Connection, tasks: Sequence[str]) -> pd.DataFrame:
    """Each task's latest status and when that attempt finished."""
    if not tasks:
        return pd.DataFrame(columns=["task", "status", "finished_at"])
    query = reads.latest_states_query(conn.dialect.name, tasks)
    frame = _frame(conn, query.order_by(TASKS.c.task))
    frame["finished_at"] = pd.to_datetime(frame["finished_at"])
    return frame


def _seconds(start: pd.Series, end: pd.Series) -> pd.Series:
    delta = pd.to_datetime(end) - pd.to_datetime(start)
    return delta.dt.total_seconds()
