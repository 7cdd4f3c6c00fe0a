"""Engines built from settings, and ``session_scope`` for ORM work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..settings import Settings
from ..system import MYSQL_BACKENDS
from .diagnosis import checked_driver, checked_url, setup_error

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def make_engine(url: URL | str, *, pool_recycle: int = 280, echo: bool = False) -> Engine:
    """An engine with the right defaults for its dialect.

    SQLite: the file's folder is created, WAL journal and foreign keys are on, and a busy
    timeout lets a reader wait for a writer instead of failing. MySQL/MariaDB: utf8mb4, pool
    pre-ping and a recycle shorter than the server's ``wait_timeout``. PostgreSQL: pool
    pre-ping, and the row count of every statement kept (psycopg's is gone once an INSERT ...
    SELECT's cursor closes). A malformed URL or a driver that is not installed is a
    ``DatabaseSetupError``.
    """
    try:
        url = checked_driver(make_url(url))
    except (ArgumentError, ValueError) as exc:
        raise setup_error(exc, url) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database not in (None, "", ":memory:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend in MYSQL_BACKENDS:
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
        return create_engine(url, echo=echo, pool_pre_ping=True, pool_recycle=pool_recycle)
    if backend == "postgresql":
        options = {"preserve_rowcount": True}
        return create_engine(url, echo=echo, pool_pre_ping=True, execution_options=options)
    return create_engine(url, echo=echo, pool_pre_ping=True)


def engine_from_settings(settings: Settings) -> Engine:
    """The project database engine described by settings.yml (or ``DATABASE_URL``)."""
    conn = settings.connection
    return make_engine(checked_url(settings), pool_recycle=conn.pool_recycle, echo=conn.echo)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """An ORM session that commits on success, rolls back on any exception, always closes."""
    from sqlalchemy.orm import sessionmaker  # the ORM loads for code that uses it (~0.1 s)

    session = sessionmaker(bind=engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
