"""Where task attempts run. ``Executor`` is the interface; ``ThreadExecutor`` the default.

The engine only ever submits a plain call (a picklable function and its argument) and reads
back a future that supports ``add_done_callback``, ``result`` and ``cancel``; any backend that
offers that (threads, processes, a Dask cluster) can run a pipeline.
"""

from __future__ import annotations

import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

__all__ = ["Executor", "ThreadExecutor", "working_task_threads"]

R = TypeVar("R")
# The name of every ThreadExecutor thread begins so.
WORKER_NAME = "task-worker-"


class Executor(ABC):
    """Runs submitted calls concurrently, ``workers`` at a time."""

    workers: int = 1

    def start(self, workers: int) -> None:
        """Prepare to run ``workers`` calls at once (called once, before any submit)."""
        self.workers = workers

    @abstractmethod
    def submit(self, fn: Callable[..., R], *args: object) -> Future[R]:
        """Start ``fn(*args)`` soon; the future completes with its result or exception."""

    def cancel(self, future: Future[R]) -> bool:
        """Withdraw a call that has not started; True if it will not run."""
        return future.cancel()

    @abstractmethod
    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        """Stop accepting work (calls not started yet may be withdrawn); with ``wait`` let
        running calls finish first, for at most ``timeout`` seconds when given."""


# A submitted call waiting for a worker thread: its future, the function and its arguments.
_Call = tuple[Future[object], Callable[..., object], tuple[object, ...]]


class ThreadExecutor(Executor):
    """A pool of up to ``workers`` daemon threads, so an interrupted run never hangs on a stuck
    task. A thread starts only when a call finds no idle one: a chain never starts more than
    one, and a short run does not wait for threads it has no use for."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or 4
        self._queue: queue.SimpleQueue[_Call | None]
        self._queue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a call
        self._queued = 0  # calls no thread has taken yet

    def start(self, workers: int) -> None:
        self.workers = workers

    def submit(self, fn: Callable[..., R], *args: object) -> Future[R]:
        future: Future[R] = Future()
        thread = None
        with self._lock:
            self._queued += 1
            if self._queued > self._idle and len(self._threads) < self.workers:
                name = f"{WORKER_NAME}{len(self._threads)}"
                thread = threading.Thread(target=self._work, name=name, daemon=True)
                self._threads.append(thread)
        if thread is not None:
            thread.start()
        self._queue.put((future, fn, args))  # type: ignore[arg-type]
        return future

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        with self._lock:
            threads, self._threads = self._threads, []
        while True:  # withdraw the calls no thread has taken: they will not run
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in threads:
            self._queue.put(None)
        if wait:
            deadline = None if timeout is None else time.monotonic() + timeout
            for thread in threads:
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            item = self._queue.get()
            with self._lock:
                self._idle -= 1
                if item is None:
                    return
                self._queued -= 1
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the caller through the future
                future.set_exception(exc)
            else:
                future.set_result(result)


def working_task_threads(grace_s: float = 0.1) -> list[threading.Thread]:
    """Task threads still alive ``grace_s`` from now: calls a run stopped waiting for (a
    second Ctrl-C) or that outlived its grace, still inside a task's code. An idle thread of a
    pool shut down ends at once."""
    threads = [t for t in threading.enumerate() if t.name.startswith(WORKER_NAME)]
    deadline = time.monotonic() + grace_s
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thread for thread in threads if thread.is_alive()]
