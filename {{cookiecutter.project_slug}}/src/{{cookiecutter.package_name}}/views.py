"""``runs`` and ``show-run``: the run ledger as tables or JSON."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .db.engine import engine_from_settings
from .db.ledger import Ledger
from .db.schema import require_head
from .errors import PipelineError
from .settings import Settings

__all__ = ["runs_view", "show_run_view"]

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


def runs_view(settings: Settings, console: Console, *, as_json: bool, limit: int) -> None:
    """Print the most recent runs."""
    with _ledger(settings) as ledger:
        rows = [_plain(row, _RUN_FIELDS) for row in ledger.runs(limit)]
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


def show_run_view(settings: Settings, console: Console, run_id: str, *, as_json: bool) -> None:
    """Print one run with every attempt and data check."""
    with _ledger(settings) as ledger:
        run = ledger.last_run() if run_id == "last" else ledger.get_run(run_id)
        if run is None:
            raise PipelineError(f"no run {run_id!r} in the ledger; `runs` lists the recent ones")
        tasks = [_plain(row, _TASK_FIELDS) for row in ledger.task_rows(run.id)]
        checks = [dict(row._mapping) for row in ledger.check_rows(run.id)]
    detail = {**_plain(run, (*_RUN_FIELDS, "selection", "code_version")), "tasks": tasks}
    detail["checks"] = [
        {
            k: c[k]
            for k in ("task", "attempt", "name", "severity", "status", "failing_rows", "sample")
        }
        for c in checks
    ]
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


class _ledger:
    """A ledger on a migrated database, with the engine disposed afterwards."""

    def __init__(self, settings: Settings):
        self.engine = engine_from_settings(settings)
        self.settings = settings

    def __enter__(self) -> Ledger:
        require_head(self.settings, self.engine)
        return Ledger(self.engine)

    def __exit__(self, *exc: Any) -> None:
        self.engine.dispose()


def _plain(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    mapping = row._mapping
    return {name: mapping[name] for name in fields}


_COLOURS = {"success": "green", "failed": "red", "crashed": "red", "running": "cyan"}


def _coloured(status: str) -> str:
    colour = _COLOURS.get(status, "yellow")
    return f"[{colour}]{status}[/{colour}]"


def _duration(start: Any, end: Any) -> str:
    if start is None or end is None:
        return ""
    return f"{(end - start).total_seconds():.1f} s"
