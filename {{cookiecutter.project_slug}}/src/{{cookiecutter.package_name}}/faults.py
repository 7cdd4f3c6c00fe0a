"""Named crash points: no-ops unless a fault-injection test asks to die at one of them.

Set ``PIPELINE_CRASH_AT`` to a comma-separated list of point names; ``PIPELINE_CRASH_ACTION``
picks what happens there: ``kill`` (SIGKILL, the default), ``interrupt`` (SIGINT, as Ctrl-C
sends), ``terminate`` (SIGTERM, as ``docker stop`` sends) or ``raise`` (:class:`InjectedCrash`).
"""

from __future__ import annotations

import os
import signal

from .errors import InjectedCrash

__all__ = ["CRASH_ACTION_ENV", "CRASH_AT_ENV", "crash_point"]

CRASH_AT_ENV = "PIPELINE_CRASH_AT"
CRASH_ACTION_ENV = "PIPELINE_CRASH_ACTION"


def crash_point(name: str) -> None:
    """Die here if the environment names this point; otherwise do nothing."""
    wanted = os.environ.get(CRASH_AT_ENV)
    if not wanted or name not in {part.strip() for part in wanted.split(",")}:
        return
    action = os.environ.get(CRASH_ACTION_ENV, "kill")
    if action == "interrupt":
        # a real SIGINT, as Ctrl-C sends: the main thread stops the run, workers carry on
        os.kill(os.getpid(), signal.SIGINT)
        return
    if action == "terminate":
        os.kill(os.getpid(), signal.SIGTERM)
        return
    if action == "raise":
        raise InjectedCrash(name)
    os.kill(os.getpid(), signal.SIGKILL)
