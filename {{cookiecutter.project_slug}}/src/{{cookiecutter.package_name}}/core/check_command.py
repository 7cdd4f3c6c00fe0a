"""The ``test`` command: run the data checks of the selected tasks without building anything."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ..db.diagnosis import checked_settings
from ..status import CheckStatus
from .state import use_state

if TYPE_CHECKING:
    from .check_run import TestReport

__all__ = ["test_command"]

console = Console()
_COLOURS = {
    CheckStatus.PASS: "green",
    CheckStatus.WARN: "yellow",
    CheckStatus.FAIL: "red",
    CheckStatus.ERROR: "red",
}
_SAMPLE_CHARS = 120


def test_command(
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", help="Tasks to check: name, glob, tag:x, a+, +a."),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", "-x", help="Tasks to leave out.")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state", help="Manifest to compare state: selectors with.", callback=use_state
        ),
    ] = None,
) -> None:
    """Run the data checks of the selected tasks (and of the sources they read) against the
    published tables, building nothing; exit 1 when an error-severity check fails."""
    # Imported here: every command's start-up would pay for the engine and the ledger.
    from .alerts import notify_test
    from .check_run import test_pipeline
    from .runner import load_dag, new_run_id

    settings = checked_settings()
    dag = load_dag(settings)
    report = test_pipeline(settings, dag, new_run_id(), tuple(select or ()), tuple(exclude or ()))
    _print(report)
    notify_test(settings, report)
    raise typer.Exit(report.exit_code)


def _print(report: TestReport) -> None:
    """Per task (or source) its checks, one a line, then the totals and the run id."""
    for item in report.checked:
        console.print(f"[bold]{escape(item.name)}[/bold]  {escape(item.summary())}")
        for outcome in item.outcomes:
            colour = _COLOURS[outcome.status]
            failing = f"  {outcome.detail}" if outcome.detail else ""
            sample = f"  {outcome.sample[:_SAMPLE_CHARS]}" if outcome.sample else ""
            console.print(
                f"  [{colour}]{outcome.status:<5}[/{colour}] {outcome.severity:<5} "
                f"{escape(outcome.name)}{failing}{escape(sample)}",
                highlight=False,
            )
    outcomes = [o for item in report.checked for o in item.outcomes]
    counts = {status: sum(1 for o in outcomes if o.status == status) for status in CheckStatus}
    said = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    tables = f"{len(report.checked)} table{'' if len(report.checked) == 1 else 's'}"
    checks = f"{len(outcomes)} check{'' if len(outcomes) == 1 else 's'}"
    console.print(f"{checks} on {tables}: {said or 'none'}", highlight=False)
    if report.unchecked:
        console.print(f"no checks: {', '.join(report.unchecked)}", highlight=False)
    console.print(f"run {report.run_id} (show-run {report.run_id})", highlight=False)
