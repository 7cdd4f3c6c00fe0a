"""The run lock on PostgreSQL: a session ``pg_advisory_lock`` held by one dedicated connection
(``ServerRunLock`` holds what every server lock shares).

Advisory locks belong to the database they were taken in, so the key only needs to tell the
lock names of one database apart: a 63-bit hash of the name.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, Engine, text

from .server_lock import ServerRunLock

__all__ = ["PostgresRunLock", "advisory_key"]


def advisory_key(name: str = "pipeline") -> int:
    """The ``pg_advisory_lock`` key of the run lock ``name`` (positive, so it fits a bigint)."""
    digest = hashlib.sha1(f"pipeline-run:{name}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


class PostgresRunLock(ServerRunLock):
    """``pg_try_advisory_lock(key)`` on a connection kept open for the whole run."""

    session_id_sql = "SELECT pg_backend_pid()"
    key: int

    def __init__(self, engine: Engine, name: str = "pipeline", *, heartbeat_s: float = 5.0):
        super().__init__(engine, name, heartbeat_s=heartbeat_s)
        self.key = advisory_key(name)

    def _try_lock(self, conn: Connection) -> bool:
        return bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}))

    def _owner(self, conn: Connection) -> int | None:
        """The backend pid holding the key in this database (a bigint key is split in two
        32-bit halves, ``classid`` and ``objid``, with ``objsubid`` 1)."""
        owner = conn.scalar(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND objsubid = 1 AND classid::bigint = :high AND objid::bigint = :low"
            ),
            {"high": self.key >> 32, "low": self.key & 0xFFFF_FFFF},
        )
        return None if owner is None else int(owner)

    def _unlock(self, conn: Connection) -> None:
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
