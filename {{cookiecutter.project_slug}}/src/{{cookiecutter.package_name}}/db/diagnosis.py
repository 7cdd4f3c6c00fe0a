"""What went wrong with the database, in plain words: the one place that turns a database URL or
connection failure into a user error.

Every command and the dashboard go through it, so a server that is down, a refused password, a
bad URL or driver, a corrupt SQLite file read the same everywhere: one paragraph naming the URL
(never its password) and the fix, and exit code 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from ..errors import DatabaseError, DatabaseSetupError, PipelineError
from ..settings import Settings, load_settings
from ..system import first_line

__all__ = [
    "Diagnosis",
    "Problem",
    "checked_driver",
    "bad_url",
    "checked_settings",
    "checked_url",
    "diagnose",
    "ensure_connects",
    "project_url",
    "setup_error",
    "shown_url",
]


class Problem(str, Enum):
    """The kinds of database trouble a user can meet, each with its own fix."""

    UNREACHABLE = "server unreachable"
    LOGIN_REFUSED = "login refused"
    NO_DATABASE = "unknown database"
    BAD_URL = "malformed url"
    UNKNOWN_DRIVER = "unknown driver"
    CORRUPT_FILE = "corrupt file"
    CANNOT_OPEN = "cannot open file"
    MISSING_TABLE = "missing table"
    QUERY = "query refused"


# Problems of set-up (exit 2); the others are a query the database refused (exit 1).
SETUP = frozenset(set(Problem) - {Problem.QUERY})

_MYSQL_CODES = {
    **dict.fromkeys((2002, 2003, 2005, 2006, 2013), Problem.UNREACHABLE),
    **dict.fromkeys((1044, 1045, 1698), Problem.LOGIN_REFUSED),
    1049: Problem.NO_DATABASE,
    1146: Problem.MISSING_TABLE,
}
_SQLITE_TEXTS = {
    "file is not a database": Problem.CORRUPT_FILE,
    "database disk image is malformed": Problem.CORRUPT_FILE,
    "unable to open database file": Problem.CANNOT_OPEN,
    "no such table": Problem.MISSING_TABLE,
}
# PostgreSQL's drivers put no error code on a failed login; their message says what it was.
_POSTGRES_TEXTS = {
    "password authentication failed": Problem.LOGIN_REFUSED,
    "no pg_hba.conf entry": Problem.LOGIN_REFUSED,
    "could not translate host name": Problem.UNREACHABLE,
}
_POSTGRES_PATTERNS = (
    (re.compile(r'database "[^"]*" does not exist'), Problem.NO_DATABASE),
    (re.compile(r'role "[^"]*" does not exist'), Problem.LOGIN_REFUSED),
    (re.compile(r'relation "[^"]*" does not exist'), Problem.MISSING_TABLE),
)
_URL_FORM = (
    "dialect+driver://user:password@host:port/database, e.g. sqlite:///data/warehouse.db, "
    "mysql+pymysql://user:password@127.0.0.1:3306/database or "
    "postgresql+psycopg://user:password@127.0.0.1:5432/database"
)
_PASSWORD_IN_TEXT = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


@dataclass(frozen=True)
class Diagnosis:
    """One database problem: its kind and the paragraph that says what to do."""

    problem: Problem
    message: str

    @property
    def exit_code(self) -> int:
        return 2 if self.problem in SETUP else 1


def shown_url(url: URL | str) -> str:
    """The URL with its password hidden, fit to show on screen."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _PASSWORD_IN_TEXT.sub(r"\1***@", url)


def project_url() -> URL | None:
    """The project database of settings.yml, to name it in an error; None if unreadable."""
    try:
        return load_settings().database_url
    except (PipelineError, ArgumentError, ValueError):
        return None


def checked_url(settings: Settings) -> URL:
    """The project database URL, its dialect and driver importable, or a ``DatabaseSetupError``
    saying what to fix in ``DATABASE_URL`` or the connection block."""
    try:
        url = settings.database_url
    except (ArgumentError, ValueError) as exc:
        raw = settings.database_url_env or settings.connection.url or ""
        source = "DATABASE_URL" if settings.database_url_env else "settings.yml's connection"
        raise bad_url(raw, source, exc) from None
    return checked_driver(url)


def checked_settings() -> Settings:
    """settings.yml, found as ``load_settings`` finds it, once its database URL is checked: a
    malformed URL or a missing driver stops a command here (``DatabaseSetupError``: exit 2, one
    paragraph), before any work."""
    settings = load_settings()
    checked_url(settings)
    return settings


def checked_driver(url: URL) -> URL:
    """``url`` once its dialect and DBAPI module load, else a ``DatabaseSetupError``."""
    try:
        url.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError) as exc:
        raise setup_error(exc, url) from None
    return url


def bad_url(raw: str, source: str, exc: Exception) -> DatabaseSetupError:
    """A malformed URL (``raw``, from ``source``): the form it should take, no password."""
    return DatabaseSetupError(
        Problem.BAD_URL.value,
        shown_url(raw),
        f"{source} is not a database URL ({shown_url(raw)!r}: {first_line(exc)}); write it as "
        f"{_URL_FORM}.",
    )


def diagnose(exc: BaseException, url: URL | str | None, *, reader: bool = False) -> Diagnosis:
    """What ``exc`` (raised while using the database at ``url``) means, and the fix.

    ``reader`` names the dashboard's read-only user in the advice about passwords.
    """
    where = shown_url(url) if url is not None else "the project database"
    problem = _classify(exc)
    detail = _driver_message(exc)
    return Diagnosis(problem, _advice(problem, where, detail, reader, _backend(url)))


def setup_error(
    exc: BaseException, url: URL | str | None, *, reader: bool = False
) -> DatabaseError:
    """``exc`` as the package's own error: a ``DatabaseSetupError`` (exit 2) for set-up
    problems, else a ``DatabaseError`` carrying the query's failure (exit 1)."""
    found = diagnose(exc, url, reader=reader)
    if found.problem not in SETUP:
        error = DatabaseError(found.message)
        error.exit_code = found.exit_code
        return error
    return DatabaseSetupError(found.problem.value, shown_url(url) if url else "", found.message)


def ensure_connects(engine: Engine, *, reader: bool = False) -> None:
    """Open and close one connection, so that a set-up problem is told before any work."""
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        raise setup_error(exc, engine.url, reader=reader) from None


def _classify(exc: BaseException) -> Problem:
    if isinstance(exc, (NoSuchModuleError, ImportError)):
        return Problem.UNKNOWN_DRIVER
    if isinstance(exc, (ArgumentError, ValueError)) and not isinstance(exc, DBAPIError):
        return Problem.BAD_URL
    code = _mysql_code(exc)
    if code in _MYSQL_CODES:
        return _MYSQL_CODES[code]
    text = _driver_message(exc).lower()
    for fragment, problem in {**_SQLITE_TEXTS, **_POSTGRES_TEXTS}.items():
        if fragment in text:
            return problem
    for pattern, problem in _POSTGRES_PATTERNS:
        if pattern.search(text):
            return problem
    if "can't connect" in text or "connection refused" in text:
        return Problem.UNREACHABLE
    return Problem.QUERY


def _credentials(reader: bool, backend: str) -> str:
    """Where the user and password that were refused come from, for this server."""
    server = "postgres" if backend == "postgresql" else "mysql"
    prefix = server.upper()
    if reader:
        return (
            f"dashboard.url in settings.yml, or {prefix}_READONLY_USER and "
            f"{prefix}_READONLY_PASSWORD in .env (the read-only user docker/{server}/init.sql "
            "creates)"
        )
    return f"{prefix}_USER and {prefix}_PASSWORD in .env, or the user and password of DATABASE_URL"


def _advice(problem: Problem, where: str, detail: str, reader: bool, backend: str) -> str:
    """The paragraph for ``problem`` at ``where``."""
    credentials = _credentials(reader, backend)
    texts = {
        Problem.UNREACHABLE: (
            f"The database server cannot be reached at {where} ({detail}). Start it with "
            "`make db-up` (docker compose service `db`: `docker compose up -d db`), or fix the "
            "host and port in DATABASE_URL or settings.yml."
        ),
        Problem.LOGIN_REFUSED: (
            f"The database server at {where} refused the login ({detail}). Check {credentials}; "
            "they must match the users the server was created with."
        ),
        Problem.NO_DATABASE: (
            f"The database server at {where} has no such database ({detail}). Create it (a "
            "fresh `make db-up` does) or fix the database name, then run `make migrate`."
        ),
        Problem.BAD_URL: f"The database URL {where} is malformed ({detail}); write it as {_URL_FORM}.",
        Problem.UNKNOWN_DRIVER: (
            f"The database URL {where} names a dialect or driver that is not installed "
            f"({detail}). Use sqlite:///..., mysql+pymysql://... or postgresql+psycopg://... "
            "(the project's `postgresql` extra installs psycopg), or install the driver."
        ),
        Problem.CORRUPT_FILE: (
            f"The SQLite file at {where} is not a usable database ({detail}). Point "
            "DATABASE_URL at the right file, or move this one away and run `make migrate` to "
            "start a new one."
        ),
        Problem.CANNOT_OPEN: (
            f"The SQLite database at {where} cannot be opened ({detail}). Check that its folder "
            "exists and is writable, or run `make migrate` to create it."
        ),
        Problem.MISSING_TABLE: (
            f"A table is missing from the database at {where} ({detail}). Run `make migrate` "
            "to bring the schema up to date."
        ),
    }
    default = f"The database at {where} refused a query ({backend}): {detail}."
    return texts.get(problem, default)


def _backend(url: URL | str | None) -> str:
    try:
        return make_url(url).get_backend_name() if url is not None else "unknown backend"
    except (ArgumentError, ValueError):
        return "unknown backend"


def _mysql_code(exc: BaseException) -> int | None:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _driver_message(exc: BaseException) -> str:
    """The first line of the driver's own message, without the error number MySQL drivers put
    before it in ``args``."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    whole = isinstance(orig, SQLAlchemyError) or not getattr(orig, "args", None)
    text = first_line(str(orig) if whole else str(orig.args[-1])) or type(orig).__name__
    return _PASSWORD_IN_TEXT.sub(r"\1***@", text)
