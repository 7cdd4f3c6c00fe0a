"""The loads' switch interval guard: lowered while any entry is inside, from whichever threads
and in whatever order they come and go; the interval as it was once the last one is out."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from {{ cookiecutter.package_name }}.ingest.switch_interval import SWITCH_INTERVAL, lowered_switch_interval

THREADS = 3
# One step: which thread, and whether it enters, leaves, or leaves by an exception (a thread
# with nothing to leave enters instead).
STEP = st.tuples(st.integers(0, THREADS - 1), st.sampled_from(["enter", "exit", "raise"]))


@contextmanager
def _interval(microseconds: int) -> Iterator[float]:
    """The switch interval set to whole ``microseconds`` (read back), restored after."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(microseconds * 1e-6)
    try:
        yield sys.getswitchinterval()
    finally:
        sys.setswitchinterval(before)


def _enter(stack: list[AbstractContextManager[Any]]) -> None:
    guard = lowered_switch_interval()
    guard.__enter__()
    stack.append(guard)


def _leave(stack: list[AbstractContextManager[Any]], error: BaseException | None) -> None:
    guard = stack.pop()
    assert not guard.__exit__(type(error) if error else None, error, None)  # never swallowed


@settings(max_examples=150, deadline=None)
@given(microseconds=st.integers(1, 20_000), steps=st.lists(STEP, max_size=40))
def test_the_interval_is_lowered_inside_and_back_after_the_last_exit(
    microseconds: int, steps: list[tuple[int, str]]
) -> None:
    with _interval(microseconds) as original:
        lowered = pytest.approx(min(original, SWITCH_INTERVAL), abs=1e-7)  # whole microseconds
        stacks: list[list[AbstractContextManager[Any]]] = [[] for _ in range(THREADS)]
        # One thread each: every step of a stack runs on its own thread, in the drawn order.
        pools = [ThreadPoolExecutor(1, f"guard-{i}") for i in range(THREADS)]
        try:
            for thread, kind in steps:
                stack = stacks[thread]
                if kind == "enter" or not stack:
                    pools[thread].submit(_enter, stack).result()
                else:
                    error = ValueError("the load failed") if kind == "raise" else None
                    pools[thread].submit(_leave, stack, error).result()
                now = sys.getswitchinterval()
                assert now <= original
                assert now == (lowered if any(stacks) else original)
            for thread in reversed(range(THREADS)):  # the rest leave, last thread first
                while stacks[thread]:
                    assert sys.getswitchinterval() == lowered
                    pools[thread].submit(_leave, stacks[thread], None).result()
            assert sys.getswitchinterval() == original
        finally:
            for pool in pools:
                pool.shutdown()


def test_threads_entering_and_leaving_at_once_leave_the_interval_as_it_was() -> None:
    with _interval(5000) as original:
        start = threading.Barrier(4)
        seen: list[float] = []

        def churn(seed: int) -> None:
            rolls = random.Random(seed)
            start.wait(10)
            for _ in range(300):
                with lowered_switch_interval():
                    for _ in range(rolls.randrange(3)):
                        with lowered_switch_interval():
                            seen.append(sys.getswitchinterval())
                    seen.append(sys.getswitchinterval())

        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(churn, seed) for seed in range(4)]:
                future.result(timeout=60)
        assert sys.getswitchinterval() == original
        lowered = pytest.approx(SWITCH_INTERVAL, abs=1e-7)
        assert seen and all(value == lowered for value in seen)
