"""One run at a time per database: the run lock, and ``run_lock_for`` choosing its kind.

``TableRunLock`` keeps the holder in the ``run_lock`` table: a row naming run id, host and pid,
refreshed by a heartbeat. A lock whose holder is gone (no heartbeat for ``stale_after_s``, or
on the same host a pid that is dead or a zombie) is taken over. On MySQL/MariaDB the server's
``GET_LOCK`` holds it instead (``mysql_lock``), on PostgreSQL a ``pg_advisory_lock``
(``postgres_lock``). What every lock shares is in ``lock_base``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from ..errors import RunLockLostError
from ..system import MYSQL_BACKENDS, pid_alive, utcnow
from .lock_base import LOCKS, LockHolder, RunLock, check_run_lock, refused, running_as
from .mysql_lock import MySQLRunLock
from .postgres_lock import PostgresRunLock

__all__ = [
    "LOCKS",
    "RunLock",
    "TableRunLock",
    "check_run_lock",
    "run_lock_for",
    "running_as",
]

_log = logging.getLogger("pipeline.lock")


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
        super().__init__(engine, name, heartbeat_s)
        self.stale_after_s = stale_after_s

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
                raise refused(holder)
            _log.warning(
                "taking over the run lock of run %s (host %s, pid %s): its process is gone",
                holder.run_id,
                holder.host,
                holder.pid,
            )
            with self.engine.begin() as conn:
                self._delete_row(conn, holder.run_id)
        raise refused(self.holder())

    def release(self) -> None:
        self._stop_heartbeat()
        if self.run_id is None:
            return
        with self.engine.begin() as conn:
            self._delete_row(conn, self.run_id)
        self.run_id = None

    def verify(self) -> None:
        """Raise ``RunLockLostError`` once the heartbeat found another process's row."""
        if self.lost:
            raise RunLockLostError(self.name)

    def holder(self) -> LockHolder | None:
        return self._holder_row()

    def _insert(self, run_id: str) -> bool:
        try:
            with self.engine.begin() as conn:
                self._insert_row(conn, run_id)
        except IntegrityError:
            return False
        return True

    def _is_stale(self, holder: LockHolder) -> bool:
        """Gone: no heartbeat for ``stale_after_s`` (any host; on this one the pid may have been
        reused by a stranger since), or on this host a pid that is dead or a zombie."""
        if utcnow() - holder.heartbeat_at > timedelta(seconds=self.stale_after_s):
            return True
        return holder.host == self.host and not pid_alive(holder.pid)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                if self._touch_row() == 0:
                    self.lost = True
                    _log.error("the run lock was taken by another process")
                    return
            except Exception as exc:  # a missed beat is not fatal; the next one may work
                _log.warning("run lock heartbeat failed: %s", exc)


def run_lock_for(engine: Engine) -> RunLock:
    """The run lock for this database: ``GET_LOCK`` on MySQL/MariaDB, ``pg_advisory_lock`` on
    PostgreSQL, else a row."""
    if engine.dialect.name in MYSQL_BACKENDS:
        return MySQLRunLock(engine)
    if engine.dialect.name == "postgresql":
        return PostgresRunLock(engine)
    return TableRunLock(engine)
