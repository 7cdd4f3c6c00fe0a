"""How the CLI shows a run: a Rich progress display on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import sys

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .core.report import LogObserver, RunObserver, RunReport
from .status import TaskState

__all__ = ["RichObserver", "configure_logging", "observer_for"]

LOG_FORMAT = "%(levelname)s %(asctime)s: %(message)s"
DATE_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def configure_logging(console: Console | None = None, level: int = logging.INFO) -> None:
    """Timestamped plain lines (PyDBT's format), or Rich-rendered ones on a terminal."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "pipeline_cli", False):  # ours, from an earlier command
            root.removeHandler(handler)
    if console is not None:
        handler: logging.Handler = RichHandler(console=console, show_path=False)
        handler.setFormatter(logging.Formatter("%(message)s", DATE_FORMAT))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    handler.pipeline_cli = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


class RichObserver(RunObserver):
    """done/total, the tasks running now and the failures so far, redrawn in place."""

    def __init__(self, console: Console):
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
        self.bar = None
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
