"""The engine cache of this process: one engine per database URL, shared by runs and attempts.

A run takes its engine here (``run_engine``) and its attempts find the same one by URL
(``engine_for``); a worker in another process builds its own on first use. Reusing an engine
saves reconnecting (and, on SQLite, a WAL checkpoint when the last connection closes) on every
run of a long-lived process.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from ..db.engine import engine_from_settings, make_engine

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["engine_for", "run_engine", "url_of"]

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def url_of(settings: Settings) -> str:
    """The database URL of ``settings`` as text, password included (attempts connect with it)."""
    return settings.database_url.render_as_string(hide_password=False)


def run_engine(settings: Settings) -> Engine:
    """The engine of the last run when this run is on the same database, else a new one (the
    previous database's engines are closed)."""
    url = url_of(settings)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            for old in _engines.values():
                old.dispose()
            _engines.clear()
            engine = _engines[url] = engine_from_settings(settings)
        return engine


def engine_for(database_url: str) -> Engine:
    """The engine for this URL: the run's own in the run's process, else a new one."""
    with _lock:
        engine = _engines.get(database_url)
        if engine is None:
            engine = _engines[database_url] = make_engine(database_url)
        return engine
