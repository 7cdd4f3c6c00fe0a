"""The dashboard's read-only database connection, and plain words for what can go wrong with it.

The dashboard never writes: on SQLite the file is opened with ``mode=ro``; on MySQL/MariaDB it
connects as ``dashboard.url``'s user (the read-only user of docker/mysql/init.sql) and marks
every session read-only as well.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..errors import DatabaseError, PipelineError
from ..settings import Settings
from ..system import MYSQL_BACKENDS, first_line

__all__ = ["dashboard_url", "describe_error", "read_only_engine", "shown_url"]

# MySQL/MariaDB error numbers that deserve their own advice.
_MYSQL_ACCESS_DENIED = {1044, 1045, 1142, 1143}
_MYSQL_UNREACHABLE = {2002, 2003, 2005, 2006, 2013}
_MYSQL_NO_DATABASE = {1049}
_MYSQL_NO_TABLE = {1146}


def dashboard_url(settings: Settings) -> URL:
    """``dashboard.url`` when set (a relative SQLite path counts from the project), else the
    project database."""
    if not settings.dashboard.url:
        return settings.database_url
    url = make_url(settings.dashboard.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        if not path.is_absolute():
            url = url.set(database=str((settings.root / path).resolve()))
    return url


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


def shown_url(url: URL | str) -> str:
    """The URL with its password hidden, fit to show on screen."""
    return make_url(url).render_as_string(hide_password=True)


def describe_error(exc: BaseException, url: URL | str | None = None) -> str:
    """One short paragraph saying what failed and what to do about it."""
    where = f" ({shown_url(url)})" if url is not None else ""
    if isinstance(exc, PipelineError):
        return str(exc)
    code = _mysql_code(exc)
    text = _driver_message(exc)
    if code in _MYSQL_UNREACHABLE or "Can't connect" in text or "Connection refused" in text:
        return (
            f"The database server cannot be reached{where}. Start it (`docker compose up -d "
            "mysql`) or fix the host and port in settings.yml, then reload this page."
        )
    if code in _MYSQL_ACCESS_DENIED:
        return (
            f"The database refused the dashboard's user{where}: {text}. Check the user and "
            "password of dashboard.url; the read-only user is created by docker/mysql/init.sql."
        )
    if code in _MYSQL_NO_DATABASE:
        return f"The database does not exist{where}. Run `make migrate` to create the schema."
    if code in _MYSQL_NO_TABLE or "no such table" in text:
        return (
            f"A table the dashboard reads is missing{where}: {text}. Run `make migrate` to "
            "bring the schema up to date."
        )
    if "unable to open database file" in text:
        return (
            f"The SQLite database cannot be opened{where}. Run `make migrate` and `make run` to "
            "create it, or check dashboard.url."
        )
    return f"The database query failed{where}: {text}"


def _mysql_code(exc: BaseException) -> int | None:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _driver_message(exc: BaseException) -> str:
    """The first line of the driver's own message, without the error number MySQL drivers put
    before it in ``args``."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    whole = isinstance(orig, SQLAlchemyError) or not getattr(orig, "args", None)
    return first_line(str(orig) if whole else str(orig.args[-1])) or type(orig).__name__
