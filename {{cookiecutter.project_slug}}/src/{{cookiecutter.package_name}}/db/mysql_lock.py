"""The run lock on MySQL/MariaDB: ``GET_LOCK`` held by one dedicated connection (``ServerRunLock``
holds what every server lock shares)."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, Engine, text

from .server_lock import ServerRunLock

__all__ = ["MySQLRunLock", "lock_name"]


def lock_name(engine: Engine, name: str = "pipeline") -> str:
    """The server-wide lock name for this database (``GET_LOCK`` names are per server)."""
    full = f"pipeline-run:{engine.url.database or ''}:{name}"
    if len(full) <= 64:
        return full
    return "pipeline-run:" + hashlib.sha1(full.encode(), usedforsecurity=False).hexdigest()


class MySQLRunLock(ServerRunLock):
    """``GET_LOCK(name, 0)`` on a connection kept open for the whole run."""

    session_id_sql = "SELECT CONNECTION_ID()"

    def __init__(self, engine: Engine, name: str = "pipeline", *, heartbeat_s: float = 5.0):
        super().__init__(engine, name, heartbeat_s=heartbeat_s)
        self.key = lock_name(engine, name)

    def _try_lock(self, conn: Connection) -> bool:
        return bool(conn.scalar(text("SELECT GET_LOCK(:key, 0)"), {"key": self.key}) == 1)

    def _owner(self, conn: Connection) -> int | None:
        owner = conn.scalar(text("SELECT IS_USED_LOCK(:key)"), {"key": self.key})
        return None if owner is None else int(owner)

    def _unlock(self, conn: Connection) -> None:
        conn.execute(text("SELECT RELEASE_LOCK(:key)"), {"key": self.key})
