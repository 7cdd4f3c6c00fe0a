"""Every code block of pydwt's README, in its order, run with only the import prefix changed.

The blocks are quoted as the README has them; ``port`` (seeds_support) swaps ``pydwt.`` for this
package, the README's URL for the test database's and, on MySQL, the schema for the test
database. Names a block uses without defining (``engine``, ``func``, ``session``, ``case``) come
from the blocks before it, as a reader of the README has them. The README's file tree and its
``pydwt new``/``export-dag``/``run`` commands are not Python; ``test_readme_commands`` holds ours.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from engine_support import PACKAGE, migrated, reload, run, write_models
from seeds_support import README_URLS, load_into, port, readme_schema, url_of
from sqlalchemy import Engine, func
from sqldata import PREDICTIONS, rows_of

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sql.session import Session
from {{ cookiecutter.package_name }}.status import TaskState

__all__ = ["migrated"]

SESSION_BLOCK = """
from sqlalchemy import create_engine
from pydwt.sql.session import Session

engine = create_engine("postgresql://user:password@localhost/dbname")
session = Session(engine, schema="my_schema")

df = session.table("my_table")
"""

DATAFRAME_BLOCK = """
from pydwt.sql.session import Session
from pydwt.sql.dataframe import DataFrame

session = Session(engine, schema="my_schema")

df = session.table("my_table")

# select some columns
df = df.select(df.col1, df.col2)

# filter rows based on a condition
df = df.where(df.col1 > 10)

# group by a column and aggregate another column
df = df.group_by(df.col2, agg={df.col1: (func.sum, "sum_col1")})

# show the resulting DataFrame
df.materialize("new_table", as_="table")
"""

TASK_BLOCK = """
from pydwt.core.task import Task

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

INJECTION_BLOCK = """
from pydwt.core.task import Task
from dependency_injector.wiring import inject, Provide
from pydwt.core.containers import Container

@Task()
@inject
def task_one(config:dict = Provide[Container.config.tasks.task_one]):
    print(config)

@Task(depends_on=[task_one])
def task_two():
    print("somme processing")
"""

MY_TABLE = pd.DataFrame({"col1": [5, 11, 12, 30, 40], "col2": ["a", "a", "b", "b", "b"]})


@pytest.fixture
def my_schema(engine: Engine):
    with readme_schema(engine, "my_schema") as schema:
        load_into(engine, schema, {"my_table": MY_TABLE})
        yield schema


def session_block(engine: Engine, schema: str) -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec(port(SESSION_BLOCK, url_of(engine), {"my_schema": schema}), namespace)
    return namespace


def test_1_session_block_reads_a_table_of_the_schema(engine: Engine, my_schema: str) -> None:
    namespace = session_block(engine, my_schema)
    assert rows_of(namespace["df"].collect()) == rows_of(MY_TABLE)


def test_2_dataframe_block_materializes_the_grouped_sums(engine: Engine, my_schema: str) -> None:
    namespace = {**session_block(engine, my_schema), "func": func}
    exec(port(DATAFRAME_BLOCK, url_of(engine), {"my_schema": my_schema}), namespace)
    new_table = Session(engine, schema=my_schema).table("new_table")
    assert new_table.columns == ["col2", "sum_col1"]
    assert rows_of(new_table.collect()) == [("a", 11), ("b", 82)]


def test_3_task_block_runs_in_the_engine(migrated: Settings, capsys) -> None:
    session = Session.from_settings(migrated)
    session.create_dataframe(PREDICTIONS, name="features")
    prelude = (
        f"from sqlalchemy import case\nfrom {PACKAGE}.connections import get_engine\n"
        f"from {PACKAGE}.sql.session import Session\n\nsession = Session(get_engine())\n"
    )
    write_models(migrated.root, prelude + port(TASK_BLOCK, ""), module="example")
    report = run(migrated)
    assert report.tasks == {"task_one": TaskState.SUCCESS, "task_two": TaskState.SUCCESS}
    expected = PREDICTIONS.assign(new_column=PREDICTIONS.preds.map({"hw": "W"}))
    assert rows_of(session.table("new_table").collect()) == rows_of(expected)
    shown = capsys.readouterr().out
    hw_rows = [line for line in shown.splitlines() if line.endswith("|         W|")]
    assert len(hw_rows) == (PREDICTIONS.preds == "hw").sum() == 3
    session.engine.dispose()


def test_4_injection_block_prints_its_settings_block(migrated: Settings, capsys) -> None:
    path = migrated.root / "settings.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["tasks"] = {"task_one": {"materialize": "table", "path": "data/in.csv"}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    write_models(migrated.root, port(INJECTION_BLOCK, ""), module="example")
    report = run(reload(migrated))
    assert report.tasks == {"task_one": TaskState.SUCCESS, "task_two": TaskState.SUCCESS}
    printed = capsys.readouterr().out.splitlines()
    assert "{'materialize': 'table', 'path': 'data/in.csv'}" in printed
    assert "somme processing" in printed


def test_the_readme_blocks_name_our_modules_only_through_the_prefix() -> None:
    for block in (SESSION_BLOCK, DATAFRAME_BLOCK, TASK_BLOCK, INJECTION_BLOCK):
        ported = port(block, "")
        assert "pydwt" not in ported
        assert ported.replace(f"{PACKAGE}.", "pydwt.") == block.replace(README_URLS[0], "")
