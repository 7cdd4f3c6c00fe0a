"""The PostgreSQL server the tests may use: ``POSTGRES_URL``, and ``REQUIRE_POSTGRES=1`` in CI.

``POSTGRES_URL`` is a ``postgresql+psycopg://`` URL whose user may create databases; each test
gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def postgres_server_url() -> str:
    """The PostgreSQL server to test against, or a skip (a failure under REQUIRE_POSTGRES=1)."""
    url = os.environ.get("POSTGRES_URL")
    if url:
        return url
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(
            "REQUIRE_POSTGRES=1 but POSTGRES_URL is not set: start PostgreSQL and export it"
        )
    pytest.skip("POSTGRES_URL is not set; these tests need a PostgreSQL server")
    return ""


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL, password included), dropped on exit."""
    server = make_url(postgres_server_url())
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
