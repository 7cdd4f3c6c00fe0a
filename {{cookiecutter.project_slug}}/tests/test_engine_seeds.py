"""The task examples of the pydwt and PyDBT READMEs run with only the import prefix changed.

Two things around them come from the user's project, as they would in theirs: the tables they
read, and PyDBT's ``connections/postgresql.py`` (here it returns the test database, with a
``public`` schema attached on SQLite). The README's ``@Task(depends_on[processing])`` is a typo
for ``depends_on=[...]``, and pydwt's dependency-injector ``config`` wiring is replaced by the
engine's own injection (see test_engine_run), so neither is copied here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from engine_support import migrated, run, write_models

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sql.session import Session
from {{ cookiecutter.package_name }}.status import TaskState

__all__ = ["migrated"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]

CONNECTIONS = """
import os

from sqlalchemy import event

from {{ cookiecutter.package_name }}.db.engine import make_engine


def get_engine():
    engine = make_engine(os.environ["DATABASE_URL"])
    if engine.dialect.name == "sqlite" and os.environ.get("ATTACH_PUBLIC"):
        path = engine.url.database

        @event.listens_for(engine, "connect")
        def attach_public(dbapi_connection, _record):
            dbapi_connection.execute(f"ATTACH DATABASE '{path}' AS public")

    return engine
"""

PYDBT_EXAMPLE = """
from {{ cookiecutter.package_name }}.sql.session import Session
from sqlalchemy import func, case
from {{ cookiecutter.package_name }}.core.task import Task
from {{ cookiecutter.package_name }}.core.schedule import Monthly
from connections.postgresql import get_engine

engine = get_engine()
session = Session(engine=engine,schema="public")


@Task(ttl_minutes=60)
def task_one():
    df = session.table("predictions")
    df.show()


@Task(depends_on=[task_one])
def task_two():
    df = session.table("predictions")
    df = df.where((df.matchDate == "2022-12-30"))
    df = df.with_column("new_column", case((df.preds == "hw", "W")))
    df = df.group_by(df.matchDate, df.preds, agg={"preds": (func.count, "count_preds")})
    df.show()


@Task(depends_on=[task_one])
def task_three():
    df = session.table("predictions")
    df = df.where((df.matchDate == "2022-12-31"))
    df = df.with_column("new_column", case((df.preds == "hw", "W")))
    df = df.group_by(df.matchDate, df.preds, agg={"preds": (func.count, "count_preds")})
    df.show()


@Task(depends_on=[task_three, task_two], runs_on=Monthly())
def task_four():
    df = session.table("predictions")
    df = df.where((df.matchDate == "2022-12-31"))
    df.show()
"""

PYDWT_EXAMPLE = """
from sqlalchemy import case
from connections.postgresql import get_engine
from {{ cookiecutter.package_name }}.sql.session import Session

session = Session(get_engine())

from {{ cookiecutter.package_name }}.core.task import Task

@Task()
def task_one():
    df = session.table("features")
    df = df.with_column("new_column", case((df.preds == "hw", "W")))
    df.materialize("new_table", as_="table")


@Task(depends_on=[task_one])
def task_two():
    df = session.table("new_table")
    df = df.where((df.new_column == "W"))
    df = df.with_column("new_column", case((df.preds == "hw", "W")))
    df.show()
"""


def prepare(settings: Settings, table: str) -> None:
    (settings.root / "connections").mkdir()
    (settings.root / "connections" / "postgresql.py").write_text(CONNECTIONS)
    engine = make_engine(settings.database_url)
    try:
        frame = pd.read_csv(PROJECT_ROOT / "seeds" / "predictions.csv")
        Session(engine).create_dataframe(frame, name=table)
    finally:
        engine.dispose()


def test_the_pydbt_predictions_example_runs(migrated: Settings, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ATTACH_PUBLIC", "1")  # read-only example: the file seen twice is fine
    prepare(migrated, "predictions")
    source = PYDBT_EXAMPLE
    if migrated.database_url.get_backend_name() in ("mysql", "mariadb"):  # a schema is a database
        source = source.replace('schema="public"', f'schema="{migrated.database_url.database}"')
    write_models(migrated.root, source, module="some_processing")
    report = run(migrated)
    assert report.tasks == {
        name: TaskState.SUCCESS for name in ("task_one", "task_two", "task_three", "task_four")
    }
    assert "count_preds" in capsys.readouterr().out


def test_the_pydwt_task_example_runs(migrated: Settings, capsys) -> None:
    prepare(migrated, "features")
    write_models(migrated.root, PYDWT_EXAMPLE, module="example")
    report = run(migrated)
    assert report.tasks == {"task_one": TaskState.SUCCESS, "task_two": TaskState.SUCCESS}
    assert "new_column" in capsys.readouterr().out
