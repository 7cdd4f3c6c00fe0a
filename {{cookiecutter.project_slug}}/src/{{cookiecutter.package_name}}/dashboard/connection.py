"""The dashboard's read-only database connection, and plain words for what can go wrong with it.

The dashboard never writes: on SQLite the file is opened with ``mode=ro``; on MySQL/MariaDB and
PostgreSQL it connects as a read-only user (``dashboard.url``'s, else ``MYSQL_READONLY_USER`` or
``POSTGRES_READONLY_USER`` from the environment or ``.env``, the user docker/<server>/init.sql
creates) and marks every session read-only as well. It never falls back on the pipeline's
read-write user.
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from ..db.diagnosis import (
    bad_url,
    checked_driver,
    checked_url,
    diagnose,
    ensure_connects,
    setup_error,
    shown_url,
)
from ..errors import DatabaseError, MigrationsPendingError, PipelineError
from ..settings import Settings
from ..system import MYSQL_BACKENDS

__all__ = ["check_connection", "dashboard_url", "describe_error", "read_only_engine", "shown_url"]

# The server whose read-only user each backend's variables name (docker/<server>/init.sql).
_SERVER = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgres"}
# Every PostgreSQL session of the dashboard starts read-only, whatever the role allows.
_POSTGRES_READ_ONLY = {"options": "-c default_transaction_read_only=on"}


def dashboard_url(settings: Settings) -> URL:
    """``dashboard.url`` when set (a relative SQLite path counts from the project); else the
    project database, on a server as the read-only user of ``MYSQL_READONLY_USER`` and
    ``MYSQL_READONLY_PASSWORD`` (``POSTGRES_READONLY_*`` on PostgreSQL); with neither, a
    ``DatabaseError`` naming both fixes."""
    if not settings.dashboard.url:
        return _project_url_read_only(settings)
    try:
        url = checked_driver(make_url(settings.dashboard.url))
    except (ArgumentError, ValueError) as exc:
        raise bad_url(settings.dashboard.url, "settings.yml's dashboard.url", exc) from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        if not path.is_absolute():
            url = url.set(database=str((settings.root / path).resolve()))
    return url


def _project_url_read_only(settings: Settings) -> URL:
    url = checked_url(settings)
    server = _SERVER.get(url.get_backend_name())
    if server is None:
        return url
    user_variable, password_variable = (
        f"{server.upper()}_READONLY_{name}" for name in ("USER", "PASSWORD")
    )
    env = {**_dotenv(settings.root), **os.environ}
    user = env.get(user_variable)
    if not user:
        raise DatabaseError(
            f"the dashboard reads {shown_url(url)} as a read-only user, never as the pipeline's "
            f"own: set dashboard.url in settings.yml to a read-only user's URL, or "
            f"{user_variable} and {password_variable} in .env (docker/{server}/init.sql "
            "creates that user)"
        )
    return url.set(username=user, password=env.get(password_variable))


def _dotenv(folder: Path) -> dict[str, str]:
    values = dotenv_values(folder / ".env") if (folder / ".env").is_file() else {}
    return {key: value for key, value in values.items() if value is not None}


def check_connection(settings: Settings, url: URL | str) -> None:
    """Connect as the dashboard would and read the schema's revision: a set-up problem, or a
    schema newer than the code, is a ``DatabaseError`` with the fix. A schema behind the code
    is left to the pages, which say what to migrate."""
    from ..core.schema_check import require_head_fast

    engine = read_only_engine(url)
    try:
        ensure_connects(engine, reader=True)
        require_head_fast(settings, engine)
    except MigrationsPendingError:
        pass
    except DBAPIError as exc:
        raise setup_error(exc, url, reader=True) from None
    finally:
        engine.dispose()


def read_only_engine(url: URL | str) -> Engine:
    """An engine that cannot change the database it reads."""
    url = make_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_read_only(url)
    if backend in MYSQL_BACKENDS:
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
        engine = create_engine(url, pool_pre_ping=True, pool_recycle=280, pool_size=4)
        event.listen(engine, "connect", _mysql_read_only)
        return engine
    if backend == "postgresql":
        return create_engine(
            url, pool_pre_ping=True, pool_size=4, connect_args=dict(_POSTGRES_READ_ONLY)
        )
    return create_engine(url, pool_pre_ping=True)


def _sqlite_read_only(url: URL) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:"):
        return create_engine(url)
    if not Path(database).is_file():
        raise DatabaseError(
            f"there is no database file at {database}; run `make migrate` and `make run` to "
            "create it, or point dashboard.url (or DATABASE_URL) at an existing one"
        )
    # The file: URI makes SQLite refuse every write, whatever the SQL asks for.
    uri = Path(database).resolve().as_uri()
    return create_engine(
        f"sqlite:///{uri}?mode=ro&uri=true", connect_args={"timeout": 5, "check_same_thread": False}
    )


def _mysql_read_only(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION TRANSACTION READ ONLY")
    cursor.close()


def describe_error(exc: BaseException, url: URL | str | None = None) -> str:
    """One short paragraph saying what failed and what to do about it."""
    if isinstance(exc, PipelineError):
        return str(exc)
    return diagnose(exc, url, reader=True).message
