"""The queries on the run ledger: runs, task attempts and data-check results.

Each function takes an open connection and returns only what one page shows: aggregates are
computed in SQL, lists are paged with LIMIT/OFFSET, and the filters follow the ledger's indexes
(``started_at``, ``status, started_at``, ``run_id, task, attempt``, ``task, status, finished_at``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Select, and_, case, func, inspect, select

from ...db.models import CheckResult, PipelineRun, TaskRun

__all__ = [
    "LEDGER_TABLES",
    "RunFilter",
    "active_run",
    "count_runs",
    "daily_outcomes",
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

RUNS = PipelineRun.__table__
TASKS = TaskRun.__table__
CHECKS = CheckResult.__table__
LEDGER_TABLES = ("pipeline_runs", "task_runs", "check_results")


@dataclass(frozen=True)
class RunFilter:
    """What the Runs page's filters ask for; empty fields filter nothing."""

    statuses: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    task: str | None = None


def ledger_missing(conn: Connection) -> list[str]:
    """The run-ledger tables this database lacks (all of them before `make migrate`)."""
    present = set(inspect(conn).get_table_names())
    return [name for name in LEDGER_TABLES if name not in present]


def _frame(conn: Connection, query: Select[Any]) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def run_summary(conn: Connection, since: datetime) -> dict[str, Any]:
    """Run counts overall and since ``since``, and how many of the recent ones succeeded."""
    recent = RUNS.c.started_at >= since
    query = select(
        func.count().label("runs"),
        func.max(RUNS.c.started_at).label("last_started"),
        func.sum(case((recent, 1), else_=0)).label("recent"),
        func.sum(case((and_(recent, RUNS.c.status == "success"), 1), else_=0)).label("ok"),
        func.sum(case((and_(recent, RUNS.c.status.in_(_FAILED_RUNS)), 1), else_=0)).label("bad"),
    )
    row = conn.execute(query).one()._mapping
    return {key: (row[key] or 0) if key != "last_started" else row[key] for key in row.keys()}


_FAILED_RUNS = ("failed", "crashed")


def recent_run_ids(conn: Connection, limit: int) -> pd.DataFrame:
    """The newest runs: id, status and times (for pickers and the latest-runs table)."""
    query = (
        select(
            RUNS.c.id,
            RUNS.c.status,
            RUNS.c.started_at,
            RUNS.c.finished_at,
            RUNS.c.tasks_total,
            RUNS.c.selection,
        )
        .order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc())
        .limit(limit)
    )
    return _frame(conn, query)


def daily_outcomes(conn: Connection, since: datetime) -> pd.DataFrame:
    """Runs per day and status since ``since`` (one row per day and status)."""
    day = func.date(RUNS.c.started_at).label("day")
    query = (
        select(day, RUNS.c.status, func.count().label("runs"))
        .where(RUNS.c.started_at >= since)
        .group_by(day, RUNS.c.status)
        .order_by(day)
    )
    frame = _frame(conn, query)
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def recent_durations(conn: Connection, limit: int) -> pd.DataFrame:
    """Start, duration (seconds) and status of the newest finished runs, oldest first."""
    query = (
        select(RUNS.c.id, RUNS.c.status, RUNS.c.started_at, RUNS.c.finished_at)
        .where(RUNS.c.finished_at.is_not(None))
        .order_by(RUNS.c.started_at.desc())
        .limit(limit)
    )
    frame = _frame(conn, query).iloc[::-1].reset_index(drop=True)
    frame["seconds"] = _seconds(frame["started_at"], frame["finished_at"])
    return frame


def active_run(conn: Connection) -> dict[str, Any] | None:
    """The newest run still marked running, with its progress, or None."""
    query = (
        select(RUNS).where(RUNS.c.status == "running").order_by(RUNS.c.started_at.desc()).limit(1)
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    run = dict(row._mapping)
    counts = final_task_counts(conn, (run["id"],))
    run["counts"] = dict(zip(counts["status"], counts["tasks"])) if len(counts) else {}
    return run


def _final_attempts(run_ids: Sequence[str]) -> Any:
    """The last attempt of each task of these runs, as a subquery on the unique index."""
    last = (
        select(TASKS.c.run_id, TASKS.c.task, func.max(TASKS.c.attempt).label("attempt"))
        .where(TASKS.c.run_id.in_(run_ids))
        .group_by(TASKS.c.run_id, TASKS.c.task)
        .subquery()
    )
    return (
        select(TASKS)
        .join(
            last,
            and_(
                TASKS.c.run_id == last.c.run_id,
                TASKS.c.task == last.c.task,
                TASKS.c.attempt == last.c.attempt,
            ),
        )
        .subquery()
    )


def final_task_counts(conn: Connection, run_ids: Sequence[str]) -> pd.DataFrame:
    """Tasks per run and final status (a task's last attempt decides its status)."""
    if not run_ids:
        return pd.DataFrame(columns=["run_id", "status", "tasks", "rows"])
    final = _final_attempts(run_ids)
    query = select(
        final.c.run_id,
        final.c.status,
        func.count().label("tasks"),
        func.sum(final.c.rows_affected).label("rows"),
    ).group_by(final.c.run_id, final.c.status)
    return _frame(conn, query)


def failed_tasks(conn: Connection, run_id: str) -> pd.DataFrame:
    """The tasks of a run whose last attempt did not succeed or skip, with the error's last
    line."""
    final = _final_attempts((run_id,))
    query = (
        select(final.c.task, final.c.status, final.c.attempt, final.c.reason, final.c.error)
        .where(final.c.status.in_(("failed", "crashed", "upstream_failed", "cancelled")))
        .order_by(final.c.finished_at, final.c.task)
    )
    frame = _frame(conn, query)
    frame["error"] = frame["error"].map(_last_line)
    return frame


def run_statuses(conn: Connection) -> list[str]:
    """Every run status present in the ledger (for the status filter)."""
    query = select(RUNS.c.status).distinct().order_by(RUNS.c.status)
    return list(conn.execute(query).scalars())


def task_names(conn: Connection) -> list[str]:
    """Every task name the ledger has seen (for the task filter)."""
    query = select(TASKS.c.task).distinct().order_by(TASKS.c.task)
    return list(conn.execute(query).scalars())


def _run_conditions(filters: RunFilter) -> list[Any]:
    conditions: list[Any] = []
    if filters.statuses:
        conditions.append(RUNS.c.status.in_(filters.statuses))
    if filters.start:
        conditions.append(RUNS.c.started_at >= datetime.combine(filters.start, datetime.min.time()))
    if filters.end:
        end = datetime.combine(filters.end + timedelta(days=1), datetime.min.time())
        conditions.append(RUNS.c.started_at < end)
    if filters.task:
        conditions.append(RUNS.c.id.in_(select(TASKS.c.run_id).where(TASKS.c.task == filters.task)))
    return conditions


def count_runs(conn: Connection, filters: RunFilter) -> int:
    """How many runs match the filters."""
    query = select(func.count()).select_from(RUNS).where(*_run_conditions(filters))
    return int(conn.execute(query).scalar_one())


def runs_page(conn: Connection, filters: RunFilter, limit: int, offset: int) -> pd.DataFrame:
    """One page of matching runs, newest first, with their tasks counted by final status."""
    query = (
        select(
            RUNS.c.id,
            RUNS.c.status,
            RUNS.c.started_at,
            RUNS.c.finished_at,
            RUNS.c.tasks_total,
            RUNS.c.selection,
            RUNS.c.host,
        )
        .where(*_run_conditions(filters))
        .order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    frame = _frame(conn, query)
    frame["seconds"] = _seconds(frame["started_at"], frame["finished_at"])
    counts = final_task_counts(conn, tuple(frame["id"]))
    for column, statuses in (("ok", ("success",)), ("skipped", ("skipped",))):
        frame[column] = _count_for(frame["id"], counts, statuses)
    frame["failed"] = _count_for(frame["id"], counts, ("failed", "crashed", "upstream_failed"))
    return frame


def _count_for(ids: pd.Series, counts: pd.DataFrame, statuses: tuple[str, ...]) -> pd.Series:
    chosen = counts[counts["status"].isin(statuses)].groupby("run_id")["tasks"].sum()
    return ids.map(chosen).fillna(0).astype(int)


def run_header(conn: Connection, run_id: str) -> dict[str, Any] | None:
    """One run's ledger row, or None when there is no such run."""
    row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()
    return dict(row._mapping) if row is not None else None


def run_attempts(conn: Connection, run_id: str) -> pd.DataFrame:
    """Every attempt of every task of one run, in the order they started."""
    query = (
        select(TASKS)
        .where(TASKS.c.run_id == run_id)
        .order_by(TASKS.c.started_at, TASKS.c.task, TASKS.c.attempt)
    )
    return _frame(conn, query)


def run_checks(conn: Connection, run_id: str) -> pd.DataFrame:
    """The data-check results recorded for one run's task attempts."""
    query = (
        select(
            TASKS.c.task,
            TASKS.c.attempt,
            CHECKS.c.name,
            CHECKS.c.severity,
            CHECKS.c.status,
            CHECKS.c.failing_rows,
            CHECKS.c.sample,
            CHECKS.c.checked_at,
        )
        .join(TASKS, TASKS.c.id == CHECKS.c.task_run_id)
        .where(TASKS.c.run_id == run_id)
        .order_by(TASKS.c.task, TASKS.c.attempt, CHECKS.c.id)
    )
    return _frame(conn, query)


def last_task_statuses(conn: Connection, tasks: Sequence[str]) -> pd.DataFrame:
    """Each task's most recent finished status and when it finished."""
    if not tasks:
        return pd.DataFrame(columns=["task", "status", "finished_at"])
    latest = func.max(TASKS.c.finished_at).label("finished_at")
    query = (
        select(TASKS.c.task, TASKS.c.status, latest)
        .where(TASKS.c.task.in_(tasks), TASKS.c.finished_at.is_not(None))
        .group_by(TASKS.c.task, TASKS.c.status)
    )
    frame = _frame(conn, query)
    frame["finished_at"] = pd.to_datetime(frame["finished_at"])
    frame = frame.sort_values(["task", "finished_at"]).drop_duplicates("task", keep="last")
    return frame.reset_index(drop=True)


def _seconds(start: pd.Series, end: pd.Series) -> pd.Series:
    delta = pd.to_datetime(end) - pd.to_datetime(start)
    return delta.dt.total_seconds()


def _last_line(error: object) -> str:
    if not isinstance(error, str) or not error.strip():
        return ""
    return error.strip().splitlines()[-1]
