"""Task and run states, as string enums with the named sets the engine reasons with."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "FAILURES",
    "RUN_TERMINAL",
    "SATISFIED",
    "TERMINAL",
    "RunState",
    "TaskState",
]


class TaskState(StrEnum):
    """The state of one task attempt; the value is what the ledger stores."""

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
FAILURES = frozenset({TaskState.FAILED, TaskState.UPSTREAM_FAILED, TaskState.CRASHED})
RUN_TERMINAL = frozenset({RunState.SUCCESS, RunState.FAILED, RunState.CANCELLED, RunState.CRASHED})
