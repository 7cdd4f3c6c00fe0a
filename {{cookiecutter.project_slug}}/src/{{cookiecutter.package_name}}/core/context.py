"""What a running task can see of its run: ``run.run_id``, ``run.task``, ``run.attempt``,
``run.logger``, ``run.settings`` and ``run.should_stop()`` (true once the run is cancelled or the
attempt timed out, so a long task can stop early)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["RunContext", "request_stop", "stop_requested"]

_stopped: set[tuple[str, ...]] = set()
_stopped_lock = threading.Lock()


@dataclass(frozen=True)
class RunContext:
    """Injected into a task that declares a ``run`` parameter."""

    run_id: str
    task: str
    attempt: int
    logger: logging.Logger = field(repr=False)
    settings: Settings | None = field(default=None, repr=False)  # the run's, as it loaded them

    def should_stop(self) -> bool:
        """True when the task should give up: the run was cancelled or this attempt timed out."""
        return stop_requested(self.run_id, self.task, self.attempt)


def request_stop(run_id: str, task: str | None = None, attempt: int | None = None) -> None:
    """Ask a whole run (``task`` None) or one attempt to stop."""
    key = (run_id,) if task is None else (run_id, task, str(attempt))
    with _stopped_lock:
        _stopped.add(key)


def stop_requested(run_id: str, task: str, attempt: int) -> bool:
    """Whether the run or this attempt was asked to stop."""
    with _stopped_lock:
        return (run_id,) in _stopped or (run_id, task, str(attempt)) in _stopped


def forget_run(run_id: str) -> None:
    """Drop a finished run's stop requests."""
    with _stopped_lock:
        for key in [k for k in _stopped if k[0] == run_id]:
            _stopped.discard(key)
