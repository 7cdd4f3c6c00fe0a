"""Where task attempts run. ``Executor`` is the interface; ``ThreadExecutor`` the default.

The engine only ever submits a plain call (a picklable function and its argument) and reads
back a future that supports ``add_done_callback``, ``result`` and ``cancel``; any backend that
offers that (threads, processes, a Dask cluster) can run a pipeline.
"""

from __future__ import annotations

import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

__all__ = ["Executor", "ThreadExecutor"]

R = TypeVar("R")


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
    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work; with ``wait`` let running calls finish first."""


# A submitted call waiting for a worker thread: its future, the function and its arguments.
_Call = tuple[Future[object], Callable[..., object], tuple[object, ...]]


class ThreadExecutor(Executor):
    """A fixed pool of daemon threads, so an interrupted run never hangs on a stuck task."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or 4
        self._queue: queue.SimpleQueue[_Call | None]
        self._queue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def start(self, workers: int) -> None:
        self.workers = workers
        for index in range(workers):
            thread = threading.Thread(target=self._work, name=f"task-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, fn: Callable[..., R], *args: object) -> Future[R]:
        if not self._threads:
            self.start(self.workers)
        future: Future[R] = Future()
        self._queue.put((future, fn, args))  # type: ignore[arg-type]
        return future

    def shutdown(self, wait: bool = True) -> None:
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()
        self._threads = []

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the caller through the future
                future.set_exception(exc)
            else:
                future.set_result(result)
