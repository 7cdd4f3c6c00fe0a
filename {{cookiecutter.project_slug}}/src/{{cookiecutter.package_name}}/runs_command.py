"""``runs`` (the most recent runs) and ``runs prune`` (delete old history), one command group.

Registered on the main app by ``cli``; the listing itself is ``views.runs_view`` and the
deleting ``db.retention``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from .db.diagnosis import checked_settings
from .system import utcnow

__all__ = ["runs_app"]

console = Console()

runs_app = typer.Typer(
    invoke_without_command=True,
    add_completion=False,
    help="The most recent runs, newest first; `runs prune` deletes old ones.",
)


@runs_app.callback()
def runs(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="How many runs to show.")] = 20,
) -> None:
    """The most recent runs, newest first; `runs prune --older-than 90d` deletes old ones."""
    if ctx.invoked_subcommand is not None:
        return
    from .views import runs_view

    runs_view(checked_settings(), console, as_json=as_json, limit=limit)


@runs_app.command("prune")
def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age of the runs to delete: 90d, 12h, 30m, 2w.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be deleted; delete nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Delete finished runs older than an age with their task rows, checks and lineage
    (never a running run, the newest one, or the runs each task's cache state points at)."""
    from .db.retention import parse_age, prune_runs
    from .db.schema import engine_at_head

    cutoff = utcnow() - parse_age(older_than)  # a bad age stops here, before any connection
    with engine_at_head(checked_settings()) as engine:
        count = prune_runs(engine, cutoff, dry_run=dry_run)
    if as_json:
        console.print_json(json.dumps({"dry_run": dry_run, "before": str(cutoff), **vars(count)}))
        return
    verb = "would delete" if dry_run else "deleted"
    console.print(
        f"{verb} {count.runs:,} runs started before {cutoff:%Y-%m-%d %H:%M} UTC: "
        f"{count.task_runs:,} task rows, {count.check_results:,} check results, "
        f"{count.task_tables:,} lineage rows",
        highlight=False,
        soft_wrap=True,
    )
