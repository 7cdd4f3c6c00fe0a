"""``runs``, ``show-run`` and ``list``: the run ledger (and the tasks beside it) as tables or
JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection

from .core.failures import error_location, traceback_text
from .core.schema_check import require_head_fast
from .db import ledger_reads as reads
from .db.engine import engine_from_settings
from .db.models import CHECKS, TableAccess
from .db.schema import engine_at_head
from .errors import MigrationsPendingError, PipelineError
from .settings import Settings
from .sqltyping import AnyRow
from .status import RUN_FAILURES, TASK_FAILURES, RunState, TaskState

if TYPE_CHECKING:
    from .core.dag import Dag

__all__ = ["last_statuses", "runs_view", "show_run_view", "tasks_view"]

_RUN_FIELDS = ("id", "status", "started_at", "finished_at", "tasks_total", "host", "pid")
_TASK_FIELDS = (
    "task",
    "attempt",
    "status",
    "reason",
    "started_at",
    "finished_at",
    "duration_ms",
    "rows_affected",
    "fingerprint",
    "error",
)
_CHECK_FIELDS = ("task", "attempt", "name", "severity", "status", "failing_rows", "sample")


def runs_view(settings: Settings, console: Console, *, as_json: bool, limit: int) -> None:
    """Print the most recent runs."""
    with _ledger(settings) as conn:
        rows = [_plain(row, _RUN_FIELDS) for row in reads.recent_runs(conn, limit)]
    if as_json:
        console.print_json(json.dumps(rows, default=str))
        return
    table = Table("status", "started (UTC)", "duration", "tasks", "host", "pid")
    table.add_column("run", no_wrap=True)
    for row in rows:
        table.add_row(
            _coloured(row["status"]),
            str(row["started_at"])[:19],
            _duration(row["started_at"], row["finished_at"]),
            str(row["tasks_total"] or 0),
            row["host"],
            str(row["pid"]),
            row["id"],
        )
    console.print(table if rows else "no runs yet: `run` starts one")


def show_run_view(
    settings: Settings, console: Console, run_id: str, *, as_json: bool, tracebacks: bool = False
) -> None:
    """Print one run with every attempt and data check (and, asked, each failure's traceback)."""
    with _ledger(settings) as conn:
        run = reads.newest_run(conn) if run_id == "last" else reads.run_row(conn, run_id)
        if run is None:
            raise PipelineError(f"no run {run_id!r} in the ledger; `runs` lists the recent ones")
        tasks = [_plain(row, _TASK_FIELDS) for row in reads.attempt_rows(conn, run.id)]
        checks = conn.execute(reads.checks_query(run.id).order_by(CHECKS.c.id))
        detail = {**_plain(run, (*_RUN_FIELDS, "selection", "code_version")), "tasks": tasks}
        detail["checks"] = [_plain(row, _CHECK_FIELDS) for row in checks]
        detail["lineage"] = reads.task_lineage(conn, reads.lineage_query(run.id))
    detail["selection"] = _json_value(detail["selection"])
    for row in tasks:
        row["location"] = error_location(row["error"], settings.root, settings.project.models_dir)
    if as_json:
        console.print_json(json.dumps(detail, default=str))
        return
    console.print(
        f"run [bold]{run.id}[/bold] {_coloured(run.status)} on {run.host} (pid {run.pid})"
    )
    table = Table("task", "try", "status", "ms", "rows", "reason / error")
    for row in tasks:
        note = row["reason"] or ""
        if row["error"]:
            note = (note + " " if note else "") + row["error"].splitlines()[0]
            note += f" ({row['location']})" if row["location"] else ""
        table.add_row(
            row["task"],
            str(row["attempt"]),
            _coloured(row["status"]),
            "" if row["duration_ms"] is None else str(row["duration_ms"]),
            "" if row["rows_affected"] is None else str(row["rows_affected"]),
            escape(note),
        )
    console.print(table)
    for check in detail["checks"]:
        console.print(
            f"check {check['task']}.{check['name']}: {_coloured(check['status'])} "
            f"({check['failing_rows']} failing rows, severity {check['severity']})"
        )
    _print_lineage(console, detail["lineage"])
    if tracebacks:
        _print_tracebacks(console, tasks)
    elif any(row["error"] for row in tasks):
        console.print(f"whole tracebacks: show-run {run.id} --traceback")


def _print_lineage(console: Console, lineage: Mapping[str, Mapping[str, list[str]]]) -> None:
    """Per task, the tables it read and wrote."""
    for task, tables in lineage.items():
        read, wrote = ", ".join(tables[TableAccess.READ]), ", ".join(tables[TableAccess.WRITE])
        console.print(f"tables {escape(task)}: read {read or '-'}; wrote {wrote or '-'}")


def _print_tracebacks(console: Console, tasks: list[dict[str, Any]]) -> None:
    """Each failed attempt's stored error in full."""
    for row in tasks:
        if row["error"]:
            where = f" at {row['location']}" if row["location"] else ""
            console.rule(f"{row['task']}, attempt {row['attempt']} ({row['status']}){where}")
            text = traceback_text(str(row["error"]))
            console.print(text, markup=False, highlight=False, soft_wrap=True)  # paths unbroken


def _json_value(text: object) -> object:
    """A column holding JSON, as the value it holds (the text itself if it is not JSON)."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


@contextmanager
def _ledger(settings: Settings) -> Iterator[Connection]:
    """A connection to a migrated database, with the engine disposed afterwards."""
    with engine_at_head(settings) as engine, engine.connect() as conn:
        yield conn


def _plain(row: AnyRow, fields: tuple[str, ...]) -> dict[str, Any]:
    """The row's ``fields`` by name (values as the database driver returns them)."""
    return {name: row._mapping[name] for name in fields}


_COLOURS: dict[str, str] = {
    **{status: "red" for status in (*TASK_FAILURES, *RUN_FAILURES)},
    TaskState.SUCCESS: "green",
    RunState.RUNNING: "cyan",
}


def _coloured(status: str) -> str:
    colour = _COLOURS.get(status, "yellow")
    return f"[{colour}]{status}[/{colour}]"


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    return f"{(end - start).total_seconds():.1f} s"


def tasks_view(
    settings: Settings, console: Console, dag: Dag, *, as_json: bool, lineage: bool
) -> None:
    """``list``: each task's dependencies, schedule, ttl, retries, tags and last status (and,
    with ``lineage``, the tables its last run read and wrote)."""
    statuses = last_statuses(settings, per_task=True, tasks=dag.names)
    tables = last_lineage(settings) if lineage else {}
    rows = [_task_row(dag, name, statuses.get(name)) for name in dag.names]
    if lineage:
        for row in rows:
            row.update(tables.get(row["task"], {access: [] for access in TableAccess}))
    if as_json:
        console.print_json(json.dumps(rows))
        return
    console.print(_lineage_table(rows) if lineage else _tasks_table(rows))


def _tasks_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("task", "depends on", "schedule", "ttl", "retry", "tags", "last status")
    for row in rows:
        ttl = row["ttl_minutes"]
        table.add_row(
            row["task"],
            ", ".join(row["depends_on"]),
            row["schedule"],
            "" if ttl is None else f"{ttl:g} min",
            str(row["retry"]),
            ", ".join(row["tags"]),
            row["last_status"] or "never run",
        )
    return table


def _lineage_table(rows: list[dict[str, Any]]) -> Table:
    """Narrow enough for 80 columns: the task, its dependencies, and its tables."""
    table = Table("task", "depends on", "last status", "reads", "writes")
    for row in rows:
        table.add_row(
            row["task"],
            ", ".join(row["depends_on"]),
            row["last_status"] or "never run",
            ", ".join(row[TableAccess.READ]),
            ", ".join(row[TableAccess.WRITE]),
        )
    return table


def _task_row(dag: Dag, name: str, status: str | None) -> dict[str, Any]:
    task = dag.tasks[name]
    return {
        "task": name,
        "depends_on": list(dag.upstream(name)),
        "schedule": task.runs_on.describe(),
        "ttl_minutes": task.ttl_minutes,
        "retry": task.retry,
        "tags": list(task.tags),
        "last_status": status,
    }


def last_lineage(settings: Settings) -> dict[str, dict[str, list[str]]]:
    """Each task's tables in its latest execution; empty when nothing has run yet."""
    with _migrated(settings) as conn:
        if conn is None:
            return {}
        return reads.task_lineage(conn, reads.latest_lineage_query())


@contextmanager
def _migrated(settings: Settings) -> Iterator[Connection | None]:
    """A connection to a database at head; None when it was never migrated (nothing has run
    yet). One that cannot be reached, or is behind or ahead of the code, raises."""
    engine = engine_from_settings(settings)
    try:
        try:
            require_head_fast(settings, engine)
        except MigrationsPendingError as exc:
            if exc.current is not None:
                raise
            migrated = False
        else:
            migrated = True
        if not migrated:
            yield None
            return
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def last_statuses(
    settings: Settings,
    run_id: str | None = None,
    per_task: bool = False,
    tasks: Sequence[str] | None = None,
) -> dict[str, str]:
    """Task states of one run (``run_id``, default the last run) or, with ``per_task``, each
    task's latest state over all runs (of ``tasks`` only, when given); empty when the database was never migrated (nothing has
    run yet). A database that cannot be reached, or whose schema is behind or ahead of the
    code, raises: "never run" would be a wrong answer."""
    with _migrated(settings) as conn:
        if conn is None:
            return {}
        if per_task:
            return reads.latest_states(conn, tasks)
        run = reads.run_row(conn, run_id) if run_id else reads.newest_run(conn)
        if run is None and run_id:
            raise PipelineError(f"no run {run_id!r} in the ledger; `runs` lists the recent ones")
        return reads.final_states(conn, run.id) if run is not None else {}
