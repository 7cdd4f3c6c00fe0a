"""Running the code blocks of the pydwt and PyDBT READMEs as their users would: the block's text,
with only the import prefix changed (``pydwt.`` and PyDBT's bare ``sql.``/``core.``/
``connections.`` become this package), the database URL the user would write, and the schema
the block names made on the test database."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from engine_support import PACKAGE
from sqlalchemy import Engine, text

from {{ cookiecutter.package_name }}.sql.session import Session

# The URLs the READMEs write, each replaced by the test database's.
README_URLS = (
    "postgresql://user:password@localhost/dbname",
    "postgres:///<con>",
    "sqlite:///example.db",
)
_PREFIXES = re.compile(r"\bpydwt\.|(?<=from )(?=(?:sql|core|connections)\.)")


def port(block: str, url: str, schemas: dict[str, str] | None = None) -> str:
    """The README block as our user writes it: the package prefix, their URL and schemas."""
    ported = _PREFIXES.sub(lambda m: f"{PACKAGE}.", block)
    for readme_url in README_URLS:
        ported = ported.replace(readme_url, url)
    for name, actual in (schemas or {}).items():
        ported = ported.replace(f'"{name}"', f'"{actual}"').replace(f"'{name}'", f"'{actual}'")
    return ported


@contextmanager
def readme_schema(engine: Engine, name: str) -> Iterator[str]:
    """The schema a README names, made on the test database: on SQLite the file ``<name>.db``
    beside it, on PostgreSQL a schema of that name, on MySQL the test database itself (a schema
    is a database there, and the test user may create no other names)."""
    backend = engine.dialect.name
    if backend == "sqlite":
        path = Path(engine.url.database).with_name(f"{name}.db")
        sqlite3.connect(path).close()
        yield name
    elif backend == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
        yield name
    else:
        yield engine.url.database


def load_into(engine: Engine, schema: str, tables: dict[str, pd.DataFrame]) -> None:
    """Create these tables in ``schema``."""
    session = Session(engine, schema=schema)
    for name, frame in tables.items():
        session.create_dataframe(frame, name=name)


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)
