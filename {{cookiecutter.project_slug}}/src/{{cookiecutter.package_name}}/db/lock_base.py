"""What every run lock shares: the interface, the holder's row in ``run_lock``, the guard.

Every kind of lock keeps a ``run_lock`` row naming its holder (run id, host, pid), refreshed by
a heartbeat thread, so any process can tell whether a run still holds the lock:
``check_run_lock`` does, just before a task's table swap, for the run ``running_as`` names.
"""

from __future__ import annotations

import os
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from types import TracebackType
from typing import NamedTuple

from sqlalchemy import Connection, Engine, delete, select, update

from ..errors import RunLockedError, RunLockLostError
from ..system import utcnow
from .models import LOCKS

__all__ = ["LOCKS", "LockHolder", "RunLock", "check_run_lock", "refused", "running_as"]

_running_as: ContextVar[str | None] = ContextVar("pipeline_run_id", default=None)


class LockHolder(NamedTuple):
    """The ``run_lock`` row of whoever holds a lock."""

    name: str
    run_id: str
    host: str
    pid: int
    acquired_at: datetime
    heartbeat_at: datetime


class RunLock(ABC):
    """The run lock of one database: ``acquire``/``release``, a context manager, ``verify``
    before publishing, and ``lost`` once another process took it."""

    lost: bool = False

    def __init__(self, engine: Engine, name: str, heartbeat_s: float):
        self.engine, self.name, self.heartbeat_s = engine, name, heartbeat_s
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.run_id: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def acquire(self, run_id: str) -> None:
        """Take the lock for ``run_id`` or raise ``RunLockedError`` naming the holder."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up (a no-op when not held)."""

    @abstractmethod
    def verify(self) -> None:
        """Raise ``RunLockLostError`` unless this run still holds the lock."""

    @abstractmethod
    def holder(self) -> LockHolder | None:
        """Whoever holds the lock, or None."""

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def _holder_row(self) -> LockHolder | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(LOCKS).where(LOCKS.c.name == self.name)).first()
        return LockHolder(*row) if row is not None else None

    def _insert_row(self, conn: Connection, run_id: str) -> None:
        now = utcnow()
        values = {"name": self.name, "run_id": run_id, "host": self.host, "pid": self.pid}
        conn.execute(LOCKS.insert(), [{**values, "acquired_at": now, "heartbeat_at": now}])

    def _delete_row(self, conn: Connection, run_id: str | None) -> None:
        conn.execute(delete(LOCKS).where(LOCKS.c.name == self.name, LOCKS.c.run_id == run_id))

    def _touch_row(self) -> int:
        """Refresh our row's heartbeat; how many rows it found (0: another process took it)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(LOCKS)
                .where(LOCKS.c.name == self.name, LOCKS.c.run_id == self.run_id)
                .values(heartbeat_at=utcnow())
            )
        return result.rowcount

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name="run-lock-heartbeat", daemon=True)
        self._thread.start()

    def _stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @abstractmethod
    def _beat(self) -> None:
        """The heartbeat thread: keep the lock alive every ``heartbeat_s`` until stopped."""


def refused(holder: LockHolder | None) -> RunLockedError:
    """The error naming the holder that refused us (names unknown if it let go meanwhile)."""
    if holder is None:
        return RunLockedError(None, None, None)
    return RunLockedError(holder.run_id, holder.host, holder.pid)


@contextmanager
def running_as(run_id: str) -> Iterator[None]:
    """Within the block (a task attempt), table swaps check that ``run_id`` holds the lock."""
    token = _running_as.set(run_id)
    try:
        yield
    finally:
        _running_as.reset(token)


def check_run_lock(conn: Connection, name: str = "pipeline") -> None:
    """Raise ``RunLockLostError`` if this attempt's run no longer holds the lock.

    Reads the holder's row, so it works on a worker in another process too; outside a run
    (no ``running_as``) it does nothing. Called on the connection that is about to swap.
    """
    run_id = _running_as.get()
    if run_id is None:
        return
    holder = conn.scalar(select(LOCKS.c.run_id).where(LOCKS.c.name == name))
    if holder != run_id:
        raise RunLockLostError(name)
