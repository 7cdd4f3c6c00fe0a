"""Where the pages get their data: the settings, one read-only engine, cached query results.

Query results are cached for a few seconds (``CACHE_TTL_S``): long enough that moving between
pages and widgets does not hit the database again, short enough that a run in progress shows up
almost at once. What a finished run recorded is kept until its end time changes
(``fetch_finished``). Failures are never cached, so the page recovers as soon as the database
does. A SQLite database is cached under the identity of its file, so a file deleted or replaced
while the dashboard runs is seen on the next page view, not served from a stale engine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ..core.dag import Dag
from ..core.discovery import discover_path
from ..errors import PipelineError
from ..settings import Settings, load_settings
from .connection import dashboard_url, describe_error, read_only_engine, shown_url
from .queries import ingest, ledger, lineage, relations

__all__ = [
    "CACHE_TTL_S",
    "Source",
    "code_dag",
    "current",
    "fetch",
    "fetch_finished",
    "guarded",
    "use_settings",
]

CACHE_TTL_S = 5
DAG_TTL_S = 30
# Finished runs whose attempts and checks stay cached (a run detail page reads two each).
FINISHED_ENTRIES = 100
_SOURCE_KEY = "_dashboard_source"
_MODULES = {"ingest": ingest, "ledger": ledger, "lineage": lineage, "relations": relations}

R = TypeVar("R")


@dataclass(frozen=True)
class Source:
    """The settings of this page view and the database URL the dashboard reads."""

    settings: Settings
    url: str

    @property
    def shown(self) -> str:
        """The URL without its password."""
        return shown_url(self.url)

    @property
    def label(self) -> str:
        """A short name for the database: the SQLite file, or user@host/database."""
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            return f"SQLite `{Path(url.database or ':memory:').name}`"
        return f"{url.get_backend_name()} `{url.username}@{url.host}/{url.database}`"


def use_settings() -> Source:
    """Load settings.yml for this page view (it is small; edits show up on the next click)."""
    settings = load_settings()
    url = dashboard_url(settings).render_as_string(hide_password=False)
    source = Source(settings=settings, url=url)
    st.session_state[_SOURCE_KEY] = source
    return source


def current() -> Source:
    """The source loaded at the start of this page view."""
    source: Source = st.session_state[_SOURCE_KEY]
    return source


FileIdentity = tuple[int, int] | None


def _file_identity(url: str) -> FileIdentity:
    """The device and inode of a SQLite database file (None for a server, or no file): part of
    every cache key, so that a deleted or replaced file is never read through an old engine."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    try:
        found = os.stat(parsed.database)
    except OSError:
        return None
    return found.st_dev, found.st_ino


@st.cache_resource(show_spinner=False, max_entries=8, on_release=Engine.dispose)
def _engine(url: str, identity: FileIdentity) -> Engine:
    return read_only_engine(url)


def _call(
    module: str, name: str, url: str, identity: FileIdentity, args: tuple[Hashable, ...]
) -> object:
    query = getattr(_MODULES[module], name)
    with _engine(url, identity).connect() as conn:
        return query(conn, *args)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=500)
def _cached(
    module: str, name: str, url: str, identity: FileIdentity, args: tuple[Hashable, ...]
) -> object:
    return _call(module, name, url, identity, args)


@st.cache_data(show_spinner=False, max_entries=FINISHED_ENTRIES)
def _cached_finished(
    module: str,
    name: str,
    url: str,
    identity: FileIdentity,
    args: tuple[Hashable, ...],
    finished_at: str,
) -> object:
    return _call(module, name, url, identity, args)


def fetch(query: Callable[..., R], *args: Hashable) -> R:
    """``query(connection, *args)`` on the dashboard's database, cached for a few seconds."""
    module = query.__module__.rpartition(".")[2]
    url = current().url
    return cast(R, _cached(module, query.__name__, url, _file_identity(url), args))


def fetch_finished(query: Callable[..., R], finished_at: object, *args: Hashable) -> R:
    """``fetch`` for what a finished run no longer changes (its attempts, its checks): kept
    until the run's ``finished_at`` changes, not re-read every few seconds. A run still going
    (``finished_at`` None) is read as ``fetch`` reads it."""
    if finished_at is None:
        return fetch(query, *args)
    module = query.__module__.rpartition(".")[2]
    url = current().url
    identity = _file_identity(url)
    return cast(R, _cached_finished(module, query.__name__, url, identity, args, str(finished_at)))


@st.cache_resource(ttl=DAG_TTL_S, show_spinner=False)
def _dag(root: str, models_dir: str) -> tuple[Dag | None, str | None]:
    try:
        return Dag.from_tasks(discover_path(Path(root), models_dir), root=Path(root)), None
    except PipelineError as exc:
        return None, str(exc)


def code_dag() -> tuple[Dag | None, str | None]:
    """The DAG defined under ``models/`` now, or None and the reason it cannot be built."""
    settings = current().settings
    return _dag(str(settings.root), settings.project.models_dir)


@contextmanager
def guarded() -> Iterator[None]:
    """Show database and settings problems as one clear message instead of a traceback."""
    try:
        yield
    except (PipelineError, SQLAlchemyError) as exc:
        source = st.session_state.get(_SOURCE_KEY)
        st.error(describe_error(exc, source.url if source else None), icon=":material/error:")
