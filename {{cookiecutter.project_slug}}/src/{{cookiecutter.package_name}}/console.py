"""How the CLI shows a run: a Rich progress display on a terminal, log lines otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from .core.report import LogObserver, RunObserver, RunReport
from .logs import configure_logging
from .status import TaskState

if TYPE_CHECKING:
    from rich.progress import TaskID

__all__ = ["RichObserver", "observer_for"]


class RichObserver(RunObserver):
    """done/total, the tasks running now and the failures so far, redrawn in place."""

    def __init__(self, console: Console):
        # rich.progress (and its tables) only on a terminal: log lines need none of it
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.fields[label]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[running]}"),
            console=console,
            transient=False,
        )
        self.bar: TaskID | None = None
        self.running: dict[str, int] = {}
        self.failures = 0
        self.done: set[str] = set()

    def run_started(self, run_id: str, total: int) -> None:
        self.progress.start()
        self.bar = self.progress.add_task("run", total=total, label=f"run {run_id}", running="")

    def task_started(self, name: str, attempt: int) -> None:
        self.running[name] = attempt
        self._refresh()

    def task_finished(
        self, name: str, state: TaskState, attempt: int, reason: str | None, error: str | None
    ) -> None:
        self.running.pop(name, None)
        will_retry = state == TaskState.FAILED and reason and reason.startswith("retry")
        if state in (TaskState.FAILED, TaskState.UPSTREAM_FAILED) and not will_retry:
            self.failures += 1
            first = (error or reason or "").splitlines()[0] if (error or reason) else ""
            self.progress.console.print(f"[red]✗ {name}[/red] {state.value}: {first}")
        elif will_retry:
            self.progress.console.print(
                f"[yellow]↻ {name}[/yellow] attempt {attempt} failed: {reason}"
            )
        if not will_retry:
            self.done.add(name)
        self._refresh()

    def task_warning(self, name: str, message: str) -> None:
        self.progress.console.print(f"[yellow]! {name}[/yellow] {escape(message)}")

    def run_finished(self, report: RunReport) -> None:
        self._refresh()
        self.progress.stop()
        LogObserver().run_finished(report)

    def _refresh(self) -> None:
        if self.bar is None:
            return
        now = ", ".join(sorted(self.running)[:4]) + (" …" if len(self.running) > 4 else "")
        failed = f"[red]{self.failures} failed[/red] " if self.failures else ""
        self.progress.update(
            self.bar,
            completed=len(self.done),
            running=f"{failed}{('running: ' + now) if now else ''}",
        )


def observer_for(console: Console) -> RunObserver:
    """Rich progress on a terminal, plain log lines everywhere else (CI, pipes, files)."""
    if console.is_terminal:
        configure_logging(console)
        return RichObserver(console)
    configure_logging()
    return LogObserver()
