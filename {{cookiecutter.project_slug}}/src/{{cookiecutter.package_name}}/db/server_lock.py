"""The run lock held by the database server on one dedicated connection: what MySQL's
``GET_LOCK`` (``mysql_lock``) and PostgreSQL's ``pg_advisory_lock`` (``postgres_lock``) share.

The server itself guarantees a single holder and frees the lock the moment the holder's
connection dies (``kill -9``, a lost network), so no stale lock ever needs taking over. The
``run_lock`` row is kept only to name the holder (run id, host, pid) to a refused run.

``verify()`` re-checks the lock just before anything is published: if the connection dropped
(a server restart) the lock is taken again when nobody else took it meanwhile, else
``RunLockLostError`` stops the run before it publishes anything.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import abstractmethod

from sqlalchemy import Connection, Engine, delete, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import RunLockLostError
from .lock_base import LOCKS, LockHolder, RunLock, refused

__all__ = ["ServerRunLock"]

_log = logging.getLogger("pipeline.lock")


class ServerRunLock(RunLock):
    """A server lock taken without waiting on a connection kept open for the whole run; each
    dialect says how to take, test and release it."""

    key: str | int
    # The server's id of the current connection (what ``_owner`` answers).
    session_id_sql: str = ""

    @property
    def lock_label(self) -> str:
        """How messages name the lock: its server-side name or key."""
        return str(self.key)

    def __init__(self, engine: Engine, name: str = "pipeline", *, heartbeat_s: float = 5.0):
        super().__init__(engine, name, heartbeat_s)
        self.lost = False
        self._conn: Connection | None = None
        self._conn_id: int | None = None
        self._guard = threading.Lock()

    def acquire(self, run_id: str) -> None:
        if not self._take():
            self._refuse()
        self.run_id = run_id
        with self.engine.begin() as conn:  # we hold the lock: any row left is a dead holder's
            conn.execute(delete(LOCKS).where(LOCKS.c.name == self.name))
            self._insert_row(conn, run_id)
        self._start_heartbeat()

    def verify(self) -> None:
        """Raise ``RunLockLostError`` unless this run still holds the lock (see module doc)."""
        if self._check() is not True:
            raise RunLockLostError(self.lock_label)

    def _check(self) -> bool | None:
        """True: held. False: lost for good. None: the server cannot be reached right now."""
        with self._guard:
            if self.run_id is None or self.lost:
                return False
            if self._still_held():
                return True
            try:
                if self._retake():
                    return True
            except SQLAlchemyError:
                return None  # a restarting server: nobody can take the lock meanwhile either
            self.lost = True
            return False

    def release(self) -> None:
        self._stop_heartbeat()
        with self._guard:
            if self.run_id is not None and not self.lost:
                try:
                    with self.engine.begin() as conn:
                        self._delete_row(conn, self.run_id)
                    if self._conn is not None:  # now, not when the server sees the socket close
                        self._unlock(self._conn)
                except SQLAlchemyError as exc:  # the server frees the lock with the connection
                    _log.warning("could not remove the run lock row: %s", exc)
            self._close()
            self.run_id = None

    def holder(self) -> LockHolder | None:
        """The row naming whoever holds the lock (it may lag the server's lock a moment)."""
        return self._holder_row()

    def _take(self) -> bool:
        """Open the dedicated connection and try the lock without waiting."""
        conn = self.engine.connect()
        try:
            got = self._try_lock(conn)
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        self._conn_id = int(conn.scalar(text(self.session_id_sql)))
        conn.commit()
        return True

    def _refuse(self) -> None:
        """Raise ``RunLockedError`` naming the holder (its row may lag its lock a moment)."""
        deadline = time.monotonic() + 2.0
        holder = self.holder()
        while holder is None and time.monotonic() < deadline:
            time.sleep(0.05)
            holder = self.holder()
        raise refused(holder)

    def _still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            owner = self._owner(self._conn)
            self._conn.commit()
        except SQLAlchemyError:
            self._close()
            return False
        return owner is not None and int(owner) == self._conn_id

    def _retake(self) -> bool:
        """After a dropped connection: take the lock again if our row shows nobody else did."""
        holder = self.holder()
        if holder is None or holder.run_id != self.run_id or not self._take():
            return False
        _log.warning("the run lock's connection dropped; the lock was taken again")
        return True

    def _close(self) -> None:
        if self._conn is not None:
            try:
                # discard the DBAPI connection, never pool it: the server frees the lock with it
                self._conn.invalidate()
                self._conn.close()
            except SQLAlchemyError:
                pass
            self._conn = None

    def _beat(self) -> None:
        """Keep the connection alive, notice a lost lock early, refresh the row's heartbeat."""
        while not self._stop.wait(self.heartbeat_s):
            held = self._check()
            if held is False:
                _log.error(
                    "the run lock %s was lost; nothing more will be published", self.lock_label
                )
                return
            if held is None:
                _log.warning("run lock: the database cannot be reached; trying again")
                continue
            try:
                self._touch_row()
            except SQLAlchemyError as exc:  # the next beat tries again
                _log.warning("run lock heartbeat failed: %s", exc)

    @abstractmethod
    def _try_lock(self, conn: Connection) -> bool:
        """Take the lock on ``conn`` without waiting; whether it was free."""

    @abstractmethod
    def _owner(self, conn: Connection) -> int | None:
        """The id of the connection holding the lock, or None."""

    @abstractmethod
    def _unlock(self, conn: Connection) -> None:
        """Release the lock ``conn`` holds."""
