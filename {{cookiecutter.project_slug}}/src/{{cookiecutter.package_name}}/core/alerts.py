"""Which alerts a finished run (or ``test``) raises, built from its report and the ledger.

A run that failed, an earlier run this one found crashed, a success after a failed run, and
error-severity checks that failed each map to a ``notify.events`` name; ``notify/`` sends them.
Reading what an alert needs may fail too (the database went away): that is one warning line,
never a change to the run's exit code.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from ..db.models import CHECKS, TASKS
from ..notify import Alert, FailedCheck, FailedTask
from ..settings import Settings
from ..status import CHECK_FAILURES, RUN_FAILURES, NotifyEvent, RunState, Severity, TaskState
from .failures import error_headline

if TYPE_CHECKING:
    from ..db.ledger import Ledger
    from .check_run import TestReport
    from .report import RunReport

__all__ = ["failed_checks", "notify_run", "notify_test", "run_alerts"]

log = logging.getLogger("pipeline.notify")
# A task in these states is named in an alert with its first error line.
_SHOWN = (TaskState.FAILED, TaskState.CRASHED)


def notify_run(settings: Settings, ledger: Ledger, report: RunReport) -> None:
    """Send the alerts ``report`` raises (nothing when ``notify:`` sends nowhere)."""
    if not settings.notify.enabled or report.run_id is None:
        return
    try:
        alerts = run_alerts(settings, ledger, report)
    except Exception as exc:  # an alert must never change the run's outcome
        log.warning("alerts not sent: reading the run failed (%s)", type(exc).__name__)
        return
    if alerts:
        from ..notify.send import deliver  # only when an alert goes out (see notify/)

        deliver(settings.notify, alerts)


def notify_test(settings: Settings, report: TestReport) -> None:
    """The ``check_failed`` alert of a ``test`` command whose error checks failed."""
    if not settings.notify.enabled or NotifyEvent.CHECK_FAILED not in settings.notify.events:
        return
    checks = tuple(
        FailedCheck(item.name, outcome.name, outcome.failing_rows)
        for item in report.checked
        for outcome in item.failed
        if outcome.severity == Severity.ERROR
    )
    if checks:
        from ..notify.send import deliver  # only when an alert goes out (see notify/)

        event = (NotifyEvent.CHECK_FAILED,)
        deliver(settings.notify, [_alert(settings, report.run_id, RunState.FAILED, event, checks)])


def run_alerts(settings: Settings, ledger: Ledger, report: RunReport) -> list[Alert]:
    """The alerts of a finished run: one per crashed run it found, one for itself if due."""
    wanted = set(settings.notify.events)
    run_id = report.run_id or ""
    alerts = []
    if NotifyEvent.CRASHED in wanted:
        alerts += [_crashed_alert(settings, ledger, crashed) for crashed in report.crashed_runs]
    events: list[NotifyEvent] = []
    if report.status in RUN_FAILURES and NotifyEvent.FAILED in wanted:
        events.append(NotifyEvent.FAILED)
    checks = failed_checks(ledger.engine, run_id) if NotifyEvent.CHECK_FAILED in wanted else ()
    if checks:
        events.append(NotifyEvent.CHECK_FAILED)
    previous = None
    if report.status == RunState.SUCCESS and NotifyEvent.RECOVERED in wanted:
        last = ledger.last_run(exclude=run_id)
        if last is not None and last.status in RUN_FAILURES:
            events.append(NotifyEvent.RECOVERED)
            previous = last.id
    if events:
        tasks = tuple(
            FailedTask(name, _first_line(name, report.errors.get(name)))
            for name, state in report.tasks.items()
            if state in _SHOWN
        )
        alerts.append(
            _alert(settings, run_id, report.status, tuple(events), checks, tasks, previous)
        )
    return alerts


def failed_checks(engine: Engine, run_id: str) -> tuple[FailedCheck, ...]:
    """The error-severity checks of a run that failed (or could not run), in order."""
    query = (
        select(TASKS.c.task, CHECKS.c.name, CHECKS.c.failing_rows)
        .join(TASKS, CHECKS.c.task_run_id == TASKS.c.id)
        .where(
            TASKS.c.run_id == run_id,
            CHECKS.c.severity == Severity.ERROR.value,
            CHECKS.c.status.in_([status.value for status in CHECK_FAILURES]),
        )
        .order_by(CHECKS.c.id)
    )
    with engine.connect() as conn:
        return tuple(
            FailedCheck(row.task, row.name, row.failing_rows or 0) for row in conn.execute(query)
        )


def _crashed_alert(settings: Settings, ledger: Ledger, run_id: str) -> Alert:
    """An earlier run whose process died: the tasks it left crashed or failed."""
    last: dict[str, tuple[str, str]] = {}
    for row in ledger.task_rows(run_id):  # in order: the last attempt of a task wins
        last[row.task] = (row.status, _first_line(row.task, row.error) or row.reason or "")
    tasks = tuple(FailedTask(name, said) for name, (state, said) in last.items() if state in _SHOWN)
    return _alert(settings, run_id, RunState.CRASHED, (NotifyEvent.CRASHED,), (), tasks)


def _alert(
    settings: Settings,
    run_id: str,
    status: RunState,
    events: tuple[NotifyEvent, ...],
    checks: tuple[FailedCheck, ...] = (),
    tasks: tuple[FailedTask, ...] = (),
    previous: str | None = None,
) -> Alert:
    return Alert(
        project=settings.project.name,
        run_id=run_id,
        status=status.value,
        events=events,
        failed_tasks=tasks,
        failed_checks=checks,
        dashboard_url=settings.notify.dashboard_url,
        previous_run=previous,
    )


def _first_line(task: str, error: str | None) -> str:
    """The first line of what a task raised (a refused build's message names its task)."""
    return error_headline(error)[0].removeprefix(f"{task}: ")
