"""What a run reports as it goes (``RunObserver``) and when it ends (``RunReport``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from ..status import RunState, TaskState
from .failures import error_headline

__all__ = ["LogObserver", "PlannedTask", "RunObserver", "RunReport"]


@dataclass(frozen=True)
class PlannedTask:
    """One line of a dry run: would the task run, and why."""

    name: str
    run: bool
    reason: str


@dataclass
class RunReport:
    """The outcome of ``run_pipeline``: run id, status and each task's final state."""

    run_id: str | None
    status: RunState
    tasks: dict[str, TaskState] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)  # failed task -> file:line
    warnings: dict[str, str] = field(default_factory=dict)  # e.g. a returned value not stored
    retry_delays: dict[str, list[float]] = field(default_factory=dict)
    plan: list[PlannedTask] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    dry_run: bool = False
    message: str | None = None
    crashed_runs: list[str] = field(default_factory=list)  # earlier runs found dead at its start

    @property
    def exit_code(self) -> int:
        """0 on success, 130 when cancelled, 1 on any other failure."""
        if self.status == RunState.SUCCESS:
            return 0
        return 130 if self.status == RunState.CANCELLED else 1

    def count(self, state: TaskState) -> int:
        """How many tasks ended in ``state``."""
        return sum(1 for value in self.tasks.values() if value == state)

    def failure_lines(self) -> list[str]:
        """Each failed task with its file:line and the first and last lines of its error."""
        lines = []
        for name, state in self.tasks.items():
            if state != TaskState.FAILED:
                continue
            first, last = error_headline(self.errors.get(name))
            where = f" ({self.locations[name]})" if self.locations.get(name) else ""
            first = first.removeprefix(f"{name}: ")  # a refused build's message names it
            lines.append(f"  {name}{where}: {first}")
            if last:
                lines.append(f"      ... {last}")
        return lines


class RunObserver:
    """Receives a run's progress; the CLI shows it, tests can record it. Methods are no-ops."""

    def run_started(self, run_id: str, total: int) -> None:
        """The run has the lock and is about to start ``total`` tasks."""

    def task_started(self, name: str, attempt: int) -> None:
        """An attempt was handed to the executor."""

    def task_finished(
        self, name: str, state: TaskState, attempt: int, reason: str | None, error: str | None
    ) -> None:
        """An attempt or a skip ended (a failed attempt that will retry comes here too)."""

    def task_warning(self, name: str, message: str) -> None:
        """A task succeeded, but something about it needs the user's eye."""

    def run_finished(self, report: RunReport) -> None:
        """The run is over and recorded."""


class LogObserver(RunObserver):
    """Plain log lines, one per event, in PyDBT's spirit."""

    def __init__(self, logger: logging.Logger | None = None):
        self.log = logger or logging.getLogger("pipeline")

    def run_started(self, run_id: str, total: int) -> None:
        self.log.info("run %s started: %d tasks", run_id, total)

    def task_started(self, name: str, attempt: int) -> None:
        suffix = f" (attempt {attempt})" if attempt > 1 else ""
        self.log.info("task %s started%s", name, suffix)

    def task_finished(
        self, name: str, state: TaskState, attempt: int, reason: str | None, error: str | None
    ) -> None:
        detail = f": {reason}" if reason else ""
        if state == TaskState.FAILED:
            first = (error or "").splitlines()[0] if error else ""
            self.log.error("task %s failed (attempt %d)%s %s", name, attempt, detail, first)
        elif state in (TaskState.UPSTREAM_FAILED, TaskState.CANCELLED, TaskState.CRASHED):
            self.log.warning("task %s %s%s", name, state.value, detail)
        else:
            self.log.info("task %s %s%s", name, state.value, detail)

    def task_warning(self, name: str, message: str) -> None:
        self.log.warning("task %s %s", name, message)

    def run_finished(self, report: RunReport) -> None:
        counts = ", ".join(
            f"{report.count(state)} {state.value}" for state in TaskState if report.count(state)
        )
        level = logging.INFO if report.status == RunState.SUCCESS else logging.ERROR
        self.log.log(
            level, "run %s %s: %s", report.run_id, report.status.value, counts or "0 tasks"
        )
        for name, warning in report.warnings.items():
            self.log.warning("task %s: %s", name, warning)
        failures = report.failure_lines()
        if failures:
            self.log.error("failed tasks:\n%s", "\n".join(failures))
        if failures or report.warnings:
            self.log.log(
                level,
                "details: show-run %s (add --traceback for the whole tracebacks)",
                report.run_id,
            )
