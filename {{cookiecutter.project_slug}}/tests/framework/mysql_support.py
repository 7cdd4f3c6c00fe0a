"""The database servers the tests may use, and a fresh database on each.

MySQL/MariaDB: ``MYSQL_URL``, and ``REQUIRE_MYSQL=1`` in CI. PostgreSQL: ``POSTGRES_URL`` (a
``postgresql+psycopg://`` URL whose user may create databases), and ``REQUIRE_POSTGRES=1`` in CI.
Without the URL a test skips; with the REQUIRE variable it fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from tenacity import Retrying, stop_after_attempt, wait_fixed

SERVER_BACKENDS = ("mysql", "postgresql")
BACKENDS = [
    "sqlite",
    pytest.param("mysql", marks=pytest.mark.mysql),
    pytest.param("postgresql", marks=pytest.mark.postgresql),
]
# The dashboard's read-only user on each server (docker/<server>/init.sql creates it).
READONLY_DEFAULTS = {"USER": "dashboard", "PASSWORD": "dashboard-dev-password"}
_SERVERS = {
    "mysql": ("MYSQL_URL", "REQUIRE_MYSQL", "MySQL/MariaDB"),
    "postgresql": ("POSTGRES_URL", "REQUIRE_POSTGRES", "PostgreSQL"),
}


def server_url(backend: str) -> str:
    """The ``backend`` server to test against, or a skip (a failure under REQUIRE_*=1)."""
    variable, require, label = _SERVERS[backend]
    url = os.environ.get(variable)
    if url:
        return url
    if os.environ.get(require) == "1":
        pytest.fail(f"{require}=1 but {variable} is not set: start {label} and export {variable}")
    pytest.skip(f"{variable} is not set; these tests need a {label} server")
    return ""


def mysql_server_url() -> str:
    """The MySQL server to test against, or a skip (a failure under REQUIRE_MYSQL=1)."""
    return server_url("mysql")


def postgres_server_url() -> str:
    """The PostgreSQL server to test against, or a skip (a failure under REQUIRE_POSTGRES=1)."""
    return server_url("postgresql")


def readonly_variable(backend: str, name: str) -> str:
    """``MYSQL_READONLY_USER`` / ``POSTGRES_READONLY_PASSWORD`` and the like."""
    return f"{'MYSQL' if backend == 'mysql' else 'POSTGRES'}_READONLY_{name}"


def readonly_credentials(backend: str) -> tuple[str, str]:
    """The read-only user and password on ``backend``'s server (environment, else defaults)."""
    user, password = (
        os.environ.get(readonly_variable(backend, name), READONLY_DEFAULTS[name])
        for name in ("USER", "PASSWORD")
    )
    return user, password


@contextmanager
def fresh_database(backend: str) -> Iterator[URL]:
    """A new, empty database on ``backend``'s server (its URL), dropped afterwards.

    The read-only user of docker/<server>/init.sql may read it (MySQL: ``test_*`` grants;
    PostgreSQL: ``pg_read_all_data``)."""
    server = make_url(server_url(backend))
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if backend == "mysql":
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        else:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as conn:
            if backend == "mysql":
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            else:
                _drop_postgres_database(conn, name)
        admin.dispose()


def _drop_postgres_database(conn: Connection, name: str) -> None:
    """Drop it, ending the sessions a test left open (FORCE), though autovacuum may be
    analysing what the test loaded: FORCE may not end the superuser's worker, a plain DROP
    does. Each in turn, a few times."""
    for attempt in Retrying(stop=stop_after_attempt(5), wait=wait_fixed(1), reraise=True):
        with attempt:
            try:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except DBAPIError:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


def url_string(url: URL) -> str:
    """The URL with its password, as settings and subprocesses need it."""
    return url.render_as_string(hide_password=False)
