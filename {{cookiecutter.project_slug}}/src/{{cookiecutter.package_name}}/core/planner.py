"""Whether a ready task runs, and why: schedule, ttl, cache, full refresh.

The same decision serves the run and the dry run, so a dry run says exactly what a run would do.
A task is cached when its fingerprint equals its last execution's, that execution succeeded,
and no upstream task has succeeded since (in this run or in a later one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..db.ledger import TaskHistory
from ..status import TaskState
from .task import Task

__all__ = ["Decision", "decide"]

_NEVER = TaskHistory()


@dataclass(frozen=True)
class Decision:
    """``run`` or skip, with the reason shown in dry runs and stored in the ledger."""

    run: bool
    reason: str
    reuse_output: bool = False  # the task may keep its stored table if its query is unchanged


def decide(
    task: Task,
    *,
    fingerprint: str,
    history: Mapping[str, TaskHistory],
    upstream: Iterable[str],
    produced: set[str],
    now: datetime,
    full_refresh: bool,
) -> Decision:
    """The decision for ``task``; ``produced`` holds tasks that wrote new data in this run."""
    past = history.get(task.name, _NEVER)
    if full_refresh:
        return Decision(True, "full refresh")
    if past.success_at is None:
        return Decision(True, "due: never succeeded")
    if not task.runs_on.is_due(now, past.success_at):
        return Decision(False, f"not scheduled ({task.runs_on.describe()})")
    if past.last_status != TaskState.SUCCESS:
        return Decision(True, f"due: last attempt ended {past.last_status}")
    if past.last_fingerprint != fingerprint:
        fresh = _fresh_upstream(task, history, upstream, produced)
        return Decision(True, "due: code, config or upstream code changed", fresh is None)
    if task.ttl_minutes is not None and past.success_at is not None:
        age = now - past.success_at
        if age < timedelta(minutes=task.ttl_minutes):
            return Decision(False, f"ttl: ran {_minutes(age)} ago (ttl {task.ttl_minutes:g} min)")
        return Decision(True, f"due: ttl of {task.ttl_minutes:g} min expired")
    fresh = _fresh_upstream(task, history, upstream, produced)
    if fresh:
        return Decision(True, f"due: upstream '{fresh}' has new data")
    return Decision(False, "cached")


def _fresh_upstream(
    task: Task, history: Mapping[str, TaskHistory], upstream: Iterable[str], produced: set[str]
) -> str | None:
    """An upstream task whose data is newer than this task's last success, if any."""
    mine = history.get(task.name, _NEVER).success_at
    for parent in sorted(upstream):
        if parent in produced:
            return parent
        theirs = history.get(parent, _NEVER).success_at
        if theirs is not None and (mine is None or theirs > mine):
            return parent
    return None


def _minutes(age: timedelta) -> str:
    minutes = age.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes >= 1 else f"{age.total_seconds():.0f} s"
