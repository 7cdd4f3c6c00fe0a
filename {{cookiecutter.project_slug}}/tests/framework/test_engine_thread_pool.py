"""The run's thread pool starts a thread only when a call finds none idle: every call still
runs exactly once, never more than ``workers`` at a time, and a chain of calls (each submitted
when the last one ended) needs no more than two threads."""

from __future__ import annotations

import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from {{ cookiecutter.package_name }}.core.executors import ThreadExecutor


def pool_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("task-worker-")}


@settings(max_examples=30, deadline=None)
@given(
    workers=st.integers(1, 4),
    waves=st.lists(st.lists(st.sampled_from([0.0, 0.001, 0.003]), max_size=6), max_size=4),
)
def test_every_call_runs_once_and_at_most_workers_at_a_time(
    workers: int, waves: list[list[float]]
) -> None:
    pool = ThreadExecutor(workers)
    pool.start(workers)
    lock = threading.Lock()
    ran: list[int] = []
    running, most = 0, 0

    def call(number: int, seconds: float) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(seconds)
        with lock:
            running -= 1
            ran.append(number)
        return number

    futures = []
    for wave in waves:  # a burst of calls, then a moment before the next
        futures += [pool.submit(call, len(futures) + i, s) for i, s in enumerate(wave)]
        time.sleep(0.002)
    assert [f.result(timeout=10) for f in futures] == list(range(len(futures)))
    pool.shutdown(wait=True)
    assert sorted(ran) == list(range(len(futures)))
    assert most <= workers


def test_a_chain_of_calls_uses_at_most_two_threads() -> None:
    before = pool_threads()
    pool = ThreadExecutor(8)
    pool.start(8)
    try:
        for number in range(200):
            assert pool.submit(lambda n=number: n).result(timeout=10) == number
        assert len(pool_threads() - before) <= 2
    finally:
        pool.shutdown(wait=True)
    assert pool_threads() <= before


def test_a_cancelled_call_never_runs_and_the_pool_still_serves() -> None:
    pool = ThreadExecutor(1)
    pool.start(1)
    gate = threading.Event()
    ran: list[str] = []
    try:
        blocking = pool.submit(gate.wait, 10)
        queued = pool.submit(ran.append, "queued")
        assert pool.cancel(queued)
        gate.set()
        assert blocking.result(timeout=10) is True
        assert pool.submit(ran.append, "later").result(timeout=10) is None
        assert ran == ["later"]
    finally:
        pool.shutdown(wait=True)


def test_shutdown_withdraws_the_calls_not_started_and_waits_at_most_its_timeout() -> None:
    pool = ThreadExecutor(1)
    pool.start(1)
    running, gate = threading.Event(), threading.Event()
    ran: list[str] = []

    def blocking_call() -> bool:
        running.set()
        return gate.wait(10)

    blocking = pool.submit(blocking_call)
    queued = pool.submit(ran.append, "queued")
    assert running.wait(10)
    pool.shutdown(wait=True, timeout=0.2)
    assert queued.cancelled()
    assert not blocking.done()  # shutdown returned with the call still running
    gate.set()
    assert blocking.result(timeout=10) is True
    assert ran == []
