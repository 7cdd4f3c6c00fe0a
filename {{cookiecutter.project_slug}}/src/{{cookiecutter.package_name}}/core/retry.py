"""How long to wait before the next attempt: exponential backoff with jitter (tenacity's)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import lru_cache

from .task import Task

__all__ = ["backoff"]


def backoff(task: Task) -> Callable[[int], float]:
    """``delay(n)``: seconds to wait after failed attempt ``n`` (1-based).

    The delay doubles with each attempt from ``retry_delay``, plus up to half of ``retry_delay``
    of random jitter so that tasks failing together do not retry in lockstep; each delay is
    therefore strictly longer than the one before it.
    """
    import tenacity  # only runs that retry pay for the import

    start = {_first_delay_parameter(): task.retry_delay}
    strategy = tenacity.wait_exponential_jitter(
        **start, jitter=task.retry_delay / 2, max=max(task.retry_delay, 1) * 600
    )

    def delay(attempt: int) -> float:
        state = tenacity.RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = attempt
        return float(strategy(state))

    return delay


@lru_cache(maxsize=1)
def _first_delay_parameter() -> str:
    """tenacity 9 renamed the first delay from ``initial`` to ``multiplier``."""
    import tenacity

    parameters = inspect.signature(tenacity.wait_exponential_jitter).parameters
    return "multiplier" if "multiplier" in parameters else "initial"
