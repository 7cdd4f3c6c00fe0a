"""The read model of the run ledger: the queries on runs, task attempts and data checks that the
engine, the CLI and the dashboard share, so that each word means one thing everywhere.

- Newest run: by ``started_at``, then id.
- A task's final state in a run: the status of its last attempt.
- A task's latest state: the row the ledger recorded last for it (the highest id), whatever its
  status; ``task_latest`` is kept in that same order, for executions only (see ``TaskHistory``).
- Failed: ``TASK_FAILURES`` for a task, ``RUN_FAILURES`` for a run.
- A task's lineage: the tables its attempts in one run read and wrote; its latest lineage is
  that of its latest execution (``task_latest.last_run_id``), who writes a table that of each
  task's latest success.

Functions ending in ``_query`` return a statement (the dashboard turns its results into frames);
the others take an open connection and return rows.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Subquery,
    and_,
    case,
    func,
    select,
)

from ..sqltyping import AnyRow, AnySelect
from ..status import RUN_FAILURES, TASK_FAILURES, RunState, TaskState
from .models import CHECKS, LATEST, RUNS, TABLES, TASKS, TableAccess

__all__ = [
    "NEWEST_FIRST",
    "RunFilter",
    "TaskHistory",
    "attempt_rows",
    "attempts_query",
    "checks_query",
    "daily_outcomes_query",
    "failed_tasks_query",
    "final_attempts",
    "final_counts_query",
    "final_states",
    "latest_lineage_query",
    "latest_states",
    "latest_states_query",
    "lineage_query",
    "newest_run",
    "published_version",
    "recent_durations_query",
    "recent_runs",
    "run_row",
    "run_summary_query",
    "running_run",
    "runs_query",
    "table_writers",
    "task_history",
    "task_lineage",
    "task_names_query",
]

NEWEST_FIRST = (RUNS.c.started_at.desc(), RUNS.c.id.desc())
# MySQL and MariaDB skip through an index's distinct prefixes by themselves (a loose index scan
# for DISTINCT and GROUP BY ... MAX, not inside a correlated subquery) and plan IN as a
# semi-join; SQLite and PostgreSQL read every entry unless walked by hand, one probe per value.
_SKIPS_BY_ITSELF = frozenset({"mysql", "mariadb"})
# Names in one IN list: far under every database's limit on bound parameters.
NAMES_PER_QUERY = 500


class TaskHistory(NamedTuple):
    """What the ledger knows of a task before a run: its last execution and last success."""

    last_status: str | None = None
    last_fingerprint: str | None = None
    success_at: datetime | None = None
    success_fingerprint: str | None = None
    success_output: str | None = None


@dataclass(frozen=True)
class RunFilter:
    """Which runs to list; empty fields filter nothing."""

    statuses: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    task: str | None = None

    def conditions(self, dialect: str) -> list[ColumnElement[bool]]:
        """The WHERE conditions on ``pipeline_runs`` (dates are whole days, ``end`` included);
        the task filter in the form ``dialect`` answers fastest."""
        conditions: list[ColumnElement[bool]] = []
        if self.statuses:
            conditions.append(RUNS.c.status.in_(self.statuses))
        if self.start:
            conditions.append(RUNS.c.started_at >= datetime.combine(self.start, time.min))
        if self.end:
            after = datetime.combine(self.end + timedelta(days=1), time.min)
            conditions.append(RUNS.c.started_at < after)
        if self.task:
            conditions.append(_with_task(self.task, dialect))
        return conditions


def _with_task(task: str, dialect: str) -> ColumnElement[bool]:
    """Runs that ran ``task``: a semi-join where MySQL and MariaDB plan one (an EXISTS there
    is a probe per run, 5x slower), elsewhere an EXISTS probe of the (run_id, task, attempt)
    index per run, newest first (an IN reads every attempt of the task first)."""
    if dialect in _SKIPS_BY_ITSELF:
        return RUNS.c.id.in_(select(TASKS.c.run_id).where(TASKS.c.task == task))
    return select(TASKS.c.id).where(TASKS.c.run_id == RUNS.c.id, TASKS.c.task == task).exists()


# --- runs -------------------------------------------------------------------------------------


def runs_query(*columns: ColumnElement[object]) -> AnySelect:
    """Runs (whole rows, or ``columns``), newest first."""
    return select(*(columns or (RUNS,))).order_by(*NEWEST_FIRST)


def newest_run(
    conn: Connection, exclude: str | None = None, *, runs_only: bool = False
) -> AnyRow | None:
    """The most recent run, or None; ``exclude`` leaves one run out (the one starting),
    ``runs_only`` the ``test`` commands (whose selection says ``"command": "test"``)."""
    query = runs_query().limit(1)
    if exclude:
        query = query.where(RUNS.c.id != exclude)
    if runs_only:
        query = query.where(func.coalesce(RUNS.c.selection, "").not_like('%"command": "test"%'))
    return conn.execute(query).first()


def run_row(conn: Connection, run_id: str) -> AnyRow | None:
    """One run, or None."""
    return conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()


def recent_runs(conn: Connection, limit: int) -> list[AnyRow]:
    """The most recent runs, newest first."""
    return list(conn.execute(runs_query().limit(limit)))


def running_run(conn: Connection) -> AnyRow | None:
    """The newest run still marked running, or None."""
    return conn.execute(runs_query().where(RUNS.c.status == RunState.RUNNING).limit(1)).first()


def run_summary_query(since: datetime) -> AnySelect:
    """One row: runs in all, the last start, and since ``since`` the runs, successes, failures.
    Each figure is its own indexed read (a count of the smallest index, the end of
    ``started_at``, a range of it), not one pass over every run."""
    recent = RUNS.c.started_at >= since

    def recent_count(*condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((and_(*condition), 1), else_=0)) if condition else func.count()

    window = select(
        recent_count().label("recent"),
        recent_count(RUNS.c.status == RunState.SUCCESS).label("ok"),
        recent_count(RUNS.c.status.in_(RUN_FAILURES)).label("bad"),
    ).where(recent)
    window_row = window.subquery()
    return select(
        select(func.count()).select_from(RUNS).scalar_subquery().label("runs"),
        select(func.max(RUNS.c.started_at)).scalar_subquery().label("last_started"),
        window_row.c.recent,
        window_row.c.ok,
        window_row.c.bad,
    )


def daily_outcomes_query(since: datetime) -> AnySelect:
    """Runs per day and status since ``since`` (columns day, status, runs)."""
    day = func.date(RUNS.c.started_at).label("day")
    return (
        select(day, RUNS.c.status, func.count().label("runs"))
        .where(RUNS.c.started_at >= since)
        .group_by(day, RUNS.c.status)
        .order_by(day)
    )


def recent_durations_query(limit: int) -> AnySelect:
    """The newest finished runs (id, status, start, end), newest first."""
    columns = (RUNS.c.id, RUNS.c.status, RUNS.c.started_at, RUNS.c.finished_at)
    return runs_query(*columns).where(RUNS.c.finished_at.is_not(None)).limit(limit)


# --- task attempts and checks -----------------------------------------------------------------


def attempts_query(run_id: str) -> AnySelect:
    """Every attempt row of a run (unordered: the CLI lists them as recorded, the dashboard as
    they started)."""
    return select(TASKS).where(TASKS.c.run_id == run_id)


def attempt_rows(conn: Connection, run_id: str) -> list[AnyRow]:
    """Every attempt row of a run, in the order they were recorded."""
    return list(conn.execute(attempts_query(run_id).order_by(TASKS.c.id)))


def checks_query(run_id: str) -> AnySelect:
    """The data-check results of a run's attempts, with the task and attempt (unordered)."""
    return (
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
    )


def final_attempts(run_ids: Sequence[str]) -> Subquery:
    """The last attempt of each task of these runs (whole rows), on the unique index."""
    last = (
        select(TASKS.c.run_id, TASKS.c.task, func.max(TASKS.c.attempt).label("attempt"))
        .where(TASKS.c.run_id.in_(run_ids))
        .group_by(TASKS.c.run_id, TASKS.c.task)
        .subquery()
    )
    same = and_(
        TASKS.c.run_id == last.c.run_id,
        TASKS.c.task == last.c.task,
        TASKS.c.attempt == last.c.attempt,
    )
    return select(TASKS).join(last, same).subquery()


def final_states(conn: Connection, run_id: str) -> dict[str, str]:
    """Each task's final state in a run."""
    final = final_attempts((run_id,))
    query = select(final.c.task, final.c.status).order_by(final.c.id)
    return {row.task: row.status for row in conn.execute(query)}


def final_counts_query(run_ids: Sequence[str]) -> AnySelect:
    """Tasks per run and final state (columns run_id, status, tasks, rows)."""
    final = final_attempts(run_ids)
    return select(
        final.c.run_id,
        final.c.status,
        func.count().label("tasks"),
        func.sum(final.c.rows_affected).label("rows"),
    ).group_by(final.c.run_id, final.c.status)


def failed_tasks_query(run_id: str) -> AnySelect:
    """The tasks of a run that failed (their final state), in the order they finished."""
    final = final_attempts((run_id,))
    return (
        select(final.c.task, final.c.status, final.c.attempt, final.c.reason, final.c.error)
        .where(final.c.status.in_(TASK_FAILURES))
        .order_by(final.c.finished_at, final.c.task)
    )


# --- tasks over all runs ----------------------------------------------------------------------


def task_names_query(dialect: str, tasks: Sequence[str] | None = None) -> AnySelect:
    """Every task name the ledger has seen (only ``tasks`` when given), unordered, on the
    ``(task, id)`` index: one probe per name (a recursive walk where ``dialect`` needs it),
    not a read of every attempt (a plain DISTINCT reads millions on a long history)."""
    if dialect in _SKIPS_BY_ITSELF:
        plain = select(TASKS.c.task).distinct()
        return plain if tasks is None else plain.where(TASKS.c.task.in_(tasks))
    following = TASKS.alias("following")
    names = select(func.min(TASKS.c.task).label("task")).cte("task_names", recursive=True)
    step = select(func.min(following.c.task)).where(following.c.task > names.c.task)
    names = names.union_all(select(step.scalar_subquery()).where(names.c.task.is_not(None)))
    query = select(names.c.task).where(names.c.task.is_not(None))
    return query if tasks is None else query.where(names.c.task.in_(tasks))


def latest_states_query(dialect: str, tasks: Sequence[str] | None = None) -> AnySelect:
    """Each task's latest state and when that row finished (columns task, status,
    finished_at); only ``tasks`` when given. Each name's highest id is one probe of the
    ``(task, id)`` index, however long its history: for the names given, or for every name
    the ledger has seen (walked, where ``dialect`` needs it)."""
    columns = (TASKS.c.task, TASKS.c.status, TASKS.c.finished_at)
    if dialect in _SKIPS_BY_ITSELF:
        newest = select(TASKS.c.task, func.max(TASKS.c.id).label("id")).group_by(TASKS.c.task)
        if tasks is not None:
            newest = newest.where(TASKS.c.task.in_(tasks))
        last = newest.subquery()
    elif tasks is not None:
        probes = [
            select(func.max(TASKS.c.id)).where(TASKS.c.task == name).scalar_subquery()
            for name in dict.fromkeys(tasks)
        ]
        return select(*columns).where(TASKS.c.id.in_(probes))
    else:
        names = task_names_query(dialect).subquery()
        history = TASKS.alias("history")
        newest = select(func.max(history.c.id)).where(history.c.task == names.c.task)
        last = select(newest.scalar_subquery().label("id")).select_from(names).subquery()
    return select(*columns).join(last, TASKS.c.id == last.c.id)


def latest_states(conn: Connection, tasks: Sequence[str] | None = None) -> dict[str, str]:
    """Each task's latest state over all runs (of ``tasks`` only, when given: faster)."""
    query = latest_states_query(conn.dialect.name, tasks)
    return {row.task: row.status for row in conn.execute(query)}


def task_history(conn: Connection, tasks: Collection[str]) -> dict[str, TaskHistory]:
    """Per task of ``tasks``: the last execution (skips excluded) and the last success, from
    ``task_latest`` (one row per task, however long the history). A run asks for its own DAG's
    names, never every name the ledger has seen."""
    columns = (LATEST.c.task, *(LATEST.c[name] for name in TaskHistory._fields))
    names = sorted(set(tasks))
    found: dict[str, TaskHistory] = {}
    for start in range(0, len(names), NAMES_PER_QUERY):
        chunk = names[start : start + NAMES_PER_QUERY]
        rows = conn.execute(select(*columns).where(LATEST.c.task.in_(chunk)))
        found.update({row.task: TaskHistory(*row[1:]) for row in rows})
    return found


def published_version(conn: Connection, task: str) -> int:
    """How many times ``task``'s table was published: its successful runs that wrote it (a run
    that kept the stored output, or a cached skip, wrote nothing)."""
    query = select(func.count()).where(
        TASKS.c.task == task,
        TASKS.c.status == TaskState.SUCCESS,
        TASKS.c.rows_affected.is_not(None),
    )
    return int(conn.scalar(query) or 0)


# --- lineage ----------------------------------------------------------------------------------


def lineage_query(run_id: str) -> AnySelect:
    """The tables each task of a run read and wrote (columns task, table_name, access)."""
    return (
        select(TASKS.c.task, TABLES.c.table_name, TABLES.c.access)
        .distinct()
        .join(TASKS, TASKS.c.id == TABLES.c.task_run_id)
        .where(TASKS.c.run_id == run_id)
        .order_by(TASKS.c.task, TABLES.c.access, TABLES.c.table_name)
    )


def latest_lineage_query(*, successes: bool = False) -> AnySelect:
    """Each task's tables in its latest execution (or, with ``successes``, its latest
    success): columns task, table_name, access."""
    run = LATEST.c.success_run_id if successes else LATEST.c.last_run_id
    return (
        select(TASKS.c.task, TABLES.c.table_name, TABLES.c.access)
        .distinct()
        .join(TASKS, TASKS.c.id == TABLES.c.task_run_id)
        .join(LATEST, and_(LATEST.c.task == TASKS.c.task, TASKS.c.run_id == run))
        .order_by(TASKS.c.task, TABLES.c.access, TABLES.c.table_name)
    )


def task_lineage(conn: Connection, query: AnySelect) -> dict[str, dict[str, list[str]]]:
    """A lineage query's rows as ``{task: {"read": [...], "write": [...]}}``."""
    result: dict[str, dict[str, list[str]]] = {}
    for row in conn.execute(query):
        tables = result.setdefault(row.task, {access: [] for access in TableAccess})
        tables[row.access].append(row.table_name)
    return result


def table_writers(conn: Connection) -> dict[str, str]:
    """Which task writes each table, as recorded by each task's latest success (when two
    tasks wrote one table, the first by name)."""
    writers: dict[str, str] = {}
    for row in conn.execute(latest_lineage_query(successes=True)):
        if row.access == TableAccess.WRITE:
            writers.setdefault(row.table_name, row.task)
    return writers
