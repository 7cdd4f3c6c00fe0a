"""The database servers the tests may use, and a fresh database on each.

MySQL/MariaDB: ``MYSQL_URL``, and ``REQUIRE_MYSQL=1`` in CI. PostgreSQL: ``POSTGRES_URL`` (a
``postgresql+psycopg://`` URL whose user may create databases), and ``REQUIRE_POSTGRES=1`` in CI.
Without the URL a test skips; with the REQUIRE variable it fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import URL

from {{ cookiecutter.package_name }}.testing.database import fresh_server_database

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
    with fresh_server_database(server_url(backend)) as url:
        yield url


def url_string(url: URL) -> str:
    """The URL with its password, as settings and subprocesses need it."""
    return url.render_as_string(hide_password=False)
