"""``Session(engine, schema=...)`` on every backend: an attached database file on SQLite, a
database on MySQL, a schema on PostgreSQL; a schema that does not exist is one clear error."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from engine_support import PACKAGE, cli, write_models
from sqlalchemy import Engine, text
from sqldata import rows_of

from {{ cookiecutter.package_name }}.errors import DatabaseSetupError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sql.session import Session

SCORES = pd.DataFrame({"team": ["A", "B", "C"], "points": [3, 1, 0]})


@pytest.fixture
def schema(engine: Engine) -> Iterator[str]:
    """A new, empty schema of the backend's kind beside the test database."""
    name = f"test_s{uuid.uuid4().hex[:10]}"  # the MySQL test user may create test_* databases
    backend = engine.dialect.name
    if backend == "sqlite":
        sqlite3.connect(Path(engine.url.database).with_name(f"{name}.db")).close()
        yield name
        return
    create, drop = (
        (f'CREATE SCHEMA "{name}"', f'DROP SCHEMA "{name}" CASCADE')
        if backend == "postgresql"
        else (f"CREATE DATABASE `{name}`", f"DROP DATABASE `{name}`")
    )
    with engine.begin() as conn:
        conn.execute(text(create))
    try:
        yield name
    finally:
        engine.dispose()
        with engine.begin() as conn:
            conn.execute(text(drop))


def test_a_session_reads_and_writes_its_schema(engine: Engine, schema: str) -> None:
    session = Session(engine=engine, schema=schema)  # PyDBT's keyword form
    session.create_dataframe(SCORES, name="scores")
    scores = session.table("scores")
    scores.where("points > 0").materialize("winners")
    scores.where(scores.points == 0).materialize("losers", as_="view")
    assert rows_of(session.table("winners").collect()) == [("A", 3), ("B", 1)]
    assert rows_of(session.table("losers").collect()) == [("C", 0)]
    assert session.table_names(schema) == ["losers", "scores", "winners"]
    assert "winners" not in Session(engine).table_names()  # not in the main database/schema


def test_a_table_of_another_schema_is_read_by_name(engine: Engine, schema: str) -> None:
    Session(engine, schema).create_dataframe(SCORES, name="scores")
    main = Session(engine)
    assert rows_of(main.table("scores", schema=schema).collect()) == rows_of(SCORES)


def test_a_missing_schema_is_one_error_naming_it_and_the_fix(engine: Engine) -> None:
    with pytest.raises(DatabaseSetupError) as caught:
        Session(engine, schema="my_schema").table("my_table")
    message = str(caught.value)
    assert message.startswith("schema 'my_schema' not found (")
    fix = {
        "sqlite": f"there is no file {Path(engine.url.database).with_name('my_schema.db')}",
        "mysql": "create it (CREATE DATABASE `my_schema`)",
        "mariadb": "create it (CREATE DATABASE `my_schema`)",
        "postgresql": 'create it (CREATE SCHEMA "my_schema")',
    }[engine.dialect.name]
    assert fix in message
    assert caught.value.exit_code == 2
    password = engine.url.password
    assert not password or password not in message


MODEL_ON_A_MISSING_SCHEMA = """
from PACKAGE.connections import get_engine
from PACKAGE.core.task import Task
from PACKAGE.sql.session import Session

session = Session(get_engine(), schema="my_schema")


@Task()
def reads_my_schema():
    session.table("my_table").show()
"""


def test_a_model_opening_a_missing_sqlite_schema_stops_the_run_in_one_paragraph(
    settings: Settings,
) -> None:
    if settings.database_url.get_backend_name() != "sqlite":
        pytest.skip("a server's schema is looked up when a task first reads from it")
    write_models(settings.root, MODEL_ON_A_MISSING_SCHEMA.replace("PACKAGE", PACKAGE), "reads")
    result = cli(settings, "run")
    shown = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, shown
    assert "Traceback" not in shown
    assert "models/reads.py:6: importing models.reads failed" in shown
    assert "schema 'my_schema' not found" in shown
    assert "there is no file" in shown and "create my_schema.db there" in shown
