"""The status vocabulary: every state a run, a task, an ingested object or a check can be in.

One module at the bottom of the package, so the engine, the ledger, the CLI, the ingest and the
dashboard spell each status the same way and agree on what "done" or "failed" means. The values
are what the database stores.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CHECK_FAILURES",
    "OPEN_TASK_STATES",
    "RUN_FAILURES",
    "RUN_TERMINAL",
    "SATISFIED",
    "TASK_FAILURES",
    "TERMINAL",
    "CheckStatus",
    "NotifyEvent",
    "ObjectStatus",
    "RunState",
    "Severity",
    "StageStatus",
    "TaskState",
]


class TaskState(StrEnum):
    """The state of one task attempt."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    CRASHED = "crashed"


class RunState(StrEnum):
    """The state of one ``run`` command."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CRASHED = "crashed"


class ObjectStatus(StrEnum):
    """The state of one ingested data object (a file, an object in a bucket)."""

    EXTRACTED = "extracted"
    LOADING = "loading"
    LOADED = "loaded"
    FAILED = "failed"
    CRASHED = "crashed"
    SUPERSEDED = "superseded"
    SKIPPED = "skipped"  # an ingest's report only: already loaded, nothing to do


class Severity(StrEnum):
    """What a failing data check does: ``error`` fails its task, ``warn`` only records."""

    ERROR = "error"
    WARN = "warn"


class CheckStatus(StrEnum):
    """The result of one data check."""

    PASS = "pass"  # noqa: S105 (a check outcome, not a password)
    FAIL = "fail"  # an error-severity check found failing rows
    WARN = "warn"  # a warn-severity check found failing rows
    ERROR = "error"  # the check's query could not run


TERMINAL = frozenset(
    {
        TaskState.SUCCESS,
        TaskState.FAILED,
        TaskState.UPSTREAM_FAILED,
        TaskState.SKIPPED,
        TaskState.CANCELLED,
        TaskState.CRASHED,
    }
)
# A child may run after these: a skipped parent left its previous outputs in place.
SATISFIED = frozenset({TaskState.SUCCESS, TaskState.SKIPPED})
# What "failed" means for a task wherever it is counted or shown.
TASK_FAILURES = frozenset({TaskState.FAILED, TaskState.UPSTREAM_FAILED, TaskState.CRASHED})
# Rows of a run that are still open: a run that dies leaves them crashed.
OPEN_TASK_STATES = frozenset({TaskState.PENDING, TaskState.RUNNING})
RUN_TERMINAL = frozenset({RunState.SUCCESS, RunState.FAILED, RunState.CANCELLED, RunState.CRASHED})
# What "failed" means for a run wherever it is counted or shown.
RUN_FAILURES = frozenset({RunState.FAILED, RunState.CRASHED})
# Check results that fail their task.
CHECK_FAILURES = frozenset({CheckStatus.FAIL, CheckStatus.ERROR})


class NotifyEvent(StrEnum):
    """What sends an alert (settings.yml ``notify.events``)."""

    FAILED = "failed"  # a run ended failed
    CRASHED = "crashed"  # a run found crashed (its process died) by the next run
    RECOVERED = "recovered"  # a run succeeded after a failed or crashed one
    CHECK_FAILED = "check_failed"  # an error-severity data check failed (a run or `test`)


# -- ingest ---------------------------------------------------------------------------------
class StageStatus(StrEnum):
    """The state of one stage (extract, transform, load) of an ingested object; a stage that
    fails or crashes takes the object's ``failed`` or ``crashed`` instead."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
