"""Log lines for people and for machines: UTC ISO 8601 times, the run id, plain or JSON.

Every line carries the time in UTC (as the ledger, ``runs`` and ``show-run`` do) and, while a run
is open, its id. ``LOG_FORMAT=json`` in the environment writes one JSON object a line for log
shippers; on a terminal without it, Rich renders the lines.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from .errors import SettingsError

__all__ = ["FORMATS", "bind_run", "configure_logging", "current_run", "formatter_for"]

FORMATS = ("plain", "json")
_PLAIN = "%(asctime)s %(levelname)s %(run_tag)s%(message)s"
_run_id: str | None = None  # one run per process at a time, logged from any of its threads


@contextmanager
def bind_run(run_id: str) -> Iterator[None]:
    """Within the block, every log line of this process names ``run_id``."""
    global _run_id
    previous, _run_id = _run_id, run_id
    try:
        yield
    finally:
        _run_id = previous


def current_run() -> str | None:
    """The id of the run open in this process, if any."""
    return _run_id


class _RunTag(logging.Filter):
    """Adds ``run_id`` (or None) and ``run_tag`` (``[<id>] `` or nothing) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        run_id = getattr(record, "run_id", None) or _run_id
        record.run_id = run_id
        record.run_tag = f"[{run_id}] " if run_id else ""
        return True


class _UtcFormatter(logging.Formatter):
    """``2026-12-02T15:00:47.123Z``: UTC, ISO 8601, milliseconds."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


class _JsonFormatter(_UtcFormatter):
    """One JSON object a line: time, level, logger, run_id, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "run_id": getattr(record, "run_id", None),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def formatter_for(kind: str) -> logging.Formatter:
    """The formatter of a ``LOG_FORMAT`` value (``plain`` or ``json``)."""
    if kind not in FORMATS:
        raise SettingsError(
            "LOG_FORMAT", [f"LOG_FORMAT is {kind!r}; use one of {', '.join(FORMATS)} (or unset it)"]
        )
    return _JsonFormatter() if kind == "json" else _UtcFormatter(_PLAIN)


# The name of the handler configure_logging installs (a later command replaces it).
_HANDLER_NAME = "pipeline-cli"


def configure_logging(console: Console | None = None, level: int = logging.INFO) -> None:
    """Log to stderr as ``LOG_FORMAT`` says, or through Rich on ``console`` (a terminal)."""
    kind = os.environ.get("LOG_FORMAT", "").strip().lower() or "plain"
    handler: logging.Handler
    if console is not None and kind == "plain":
        handler = RichHandler(console=console, show_path=False, log_time_format=_utc_text)
        handler.setFormatter(logging.Formatter("%(run_tag)s%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter_for(kind))
    handler.addFilter(_RunTag())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)  # ours, from an earlier command in this process
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _utc_text(moment: datetime) -> Text:
    """Rich's time column in UTC (Rich hands over local time)."""
    return Text(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
