"""Small helpers every layer needs: the clock, processes, errors' first lines, backend names."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

__all__ = ["MYSQL_BACKENDS", "first_line", "last_line", "pid_alive", "utcnow"]

# SQLAlchemy backend names that speak MySQL's SQL (MariaDB is a separate dialect name).
MYSQL_BACKENDS = frozenset({"mysql", "mariadb"})

_EPOCH = datetime(1970, 1, 1)


def utcnow() -> datetime:
    """Naive UTC now, as the ledgers store times (half the cost of ``datetime.now(utc)``)."""
    return _EPOCH + timedelta(seconds=time.time())


def pid_alive(pid: int) -> bool:
    """Whether a live process with this pid exists on this machine; a zombie (exited, not yet
    reaped by its parent) counts as dead."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # "pid (comm) S ...": the state follows the last ')', since comm may hold one
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False  # no /proc (macOS, Windows): trust kill(0)


def first_line(exc: BaseException | str | None) -> str:
    """The first line of an error's message: the driver's own message for a database error
    (SQLAlchemy wraps it in ``orig``), the type's name when the message is empty."""
    if exc is None:
        return ""
    if isinstance(exc, str):
        text = exc.strip()
        return text.splitlines()[0] if text else ""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def last_line(error: object) -> str:
    """The last line of a stored traceback (what was raised), or an empty string."""
    if not isinstance(error, str) or not error.strip():
        return ""
    return error.strip().splitlines()[-1]
