"""One run at a time per database: the run lock.

``RunLock`` is the interface the runner uses (``acquire``/``release``, a context manager, and
``lost`` once another process took it). ``TableRunLock`` keeps the holder in the ``run_lock``
table: a row naming run id, host and pid, refreshed by a heartbeat. A lock whose holder is gone
(same host: its pid is dead; another host: no heartbeat for ``stale_after_s``) is taken over.

Both kinds keep the holder's row, so any process can tell whether a run still holds the lock:
``check_run_lock`` does, just before a task's table swap, for the run ``running_as`` names.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import RunLockedError, RunLockLostError
from ..system import pid_alive, utcnow
from .models import RunLock as RunLockRow

__all__ = [
    "RunLock",
    "TableRunLock",
    "check_run_lock",
    "run_lock_for",
    "running_as",
    "verify_lock",
]

LOCKS = RunLockRow.__table__
_log = logging.getLogger("pipeline.lock")
_running_as: ContextVar[str | None] = ContextVar("pipeline_run_id", default=None)


class RunLock(ABC):
    """The run lock of one database."""

    lost: bool = False

    @abstractmethod
    def acquire(self, run_id: str) -> None:
        """Take the lock for ``run_id`` or raise ``RunLockedError`` naming the holder."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up (a no-op when not held)."""

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class TableRunLock(RunLock):
    """The lock as a row of ``run_lock``, with a heartbeat thread while held."""

    def __init__(
        self,
        engine: Engine,
        name: str = "pipeline",
        *,
        heartbeat_s: float = 5.0,
        stale_after_s: float = 60.0,
    ):
        self.engine, self.name = engine, name
        self.heartbeat_s, self.stale_after_s = heartbeat_s, stale_after_s
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.run_id: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self, run_id: str) -> None:
        for _ in range(3):
            if self._insert(run_id):
                self.run_id = run_id
                self._start_heartbeat()
                return
            holder = self.holder()
            if holder is None:
                continue  # released between our insert and our read: try again
            if not self._is_stale(holder):
                raise RunLockedError(holder.run_id, holder.host, holder.pid)
            _log.warning(
                "taking over the run lock of run %s (host %s, pid %s): its process is gone",
                holder.run_id,
                holder.host,
                holder.pid,
            )
            with self.engine.begin() as conn:
                conn.execute(
                    delete(LOCKS).where(LOCKS.c.name == self.name, LOCKS.c.run_id == holder.run_id)
                )
        holder = self.holder()
        raise RunLockedError(
            getattr(holder, "run_id", None),
            getattr(holder, "host", None),
            getattr(holder, "pid", None),
        )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.run_id is None:
            return
        with self.engine.begin() as conn:
            conn.execute(
                delete(LOCKS).where(LOCKS.c.name == self.name, LOCKS.c.run_id == self.run_id)
            )
        self.run_id = None

    def holder(self) -> Any:
        """The row of whoever holds the lock, or None."""
        with self.engine.connect() as conn:
            return conn.execute(select(LOCKS).where(LOCKS.c.name == self.name)).first()

    def _insert(self, run_id: str) -> bool:
        now = utcnow()
        row = {
            "name": self.name,
            "run_id": run_id,
            "host": self.host,
            "pid": self.pid,
            "acquired_at": now,
            "heartbeat_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(LOCKS.insert(), [row])
        except IntegrityError:
            return False
        return True

    def _is_stale(self, holder: Any) -> bool:
        if holder.host == self.host:
            return not pid_alive(holder.pid)
        return utcnow() - holder.heartbeat_at > timedelta(seconds=self.stale_after_s)

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name="run-lock-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                with self.engine.begin() as conn:
                    result = conn.execute(
                        update(LOCKS)
                        .where(LOCKS.c.name == self.name, LOCKS.c.run_id == self.run_id)
                        .values(heartbeat_at=utcnow())
                    )
                if result.rowcount == 0:
                    self.lost = True
                    _log.error("the run lock was taken by another process")
                    return
            except Exception as exc:  # a missed beat is not fatal; the next one may work
                _log.warning("run lock heartbeat failed: %s", exc)


def run_lock_for(engine: Engine) -> RunLock:
    """The run lock for this database: ``GET_LOCK`` on MySQL/MariaDB, else a row."""
    if engine.dialect.name in ("mysql", "mariadb"):
        from .mysql_lock import MySQLRunLock

        return MySQLRunLock(engine)
    return TableRunLock(engine)


def verify_lock(lock: RunLock) -> None:
    """Raise ``RunLockLostError`` if ``lock`` is no longer held (checked before publishing)."""
    verify = getattr(lock, "verify", None)
    if verify is not None:
        verify()
    elif lock.lost:
        raise RunLockLostError(getattr(lock, "name", "pipeline"))


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
