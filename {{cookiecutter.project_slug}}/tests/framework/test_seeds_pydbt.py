"""Every code block of PyDBT's README, in its order, run with only the import prefix changed.

The blocks are quoted as the README has them; ``port`` (seeds_support) makes PyDBT's bare
``sql.``/``core.``/``connections.`` imports this package's, puts the test database's URL for the
README's and, on MySQL, the test database for the schema. Names a block uses without defining
(``engine``, ``session``, ``create_engine``) come from the blocks before it, as a reader of the
README has them. The README's ``@Task(depends_on[processing])`` is a typo even in PyDBT (a
NameError), run here as ``depends_on=[processing]``. The full example imports
``connections.postgresql``: it runs unchanged on PostgreSQL, and on SQLite and MySQL with the
dialect module of that backend.
"""

from __future__ import annotations

import pandas as pd
import pytest
from engine_support import migrated, run, write_models
from seeds_support import load_into, port, readme_schema, url_of
from sqlalchemy import Engine
from sqldata import rows_of

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sql.session import Session
from {{ cookiecutter.package_name }}.status import TaskState

__all__ = ["migrated"]

SESSION_BLOCK = """
from sqlalchemy import create_engine
from sql.session import Session

engine = create_engine('postgres:///<con>')

# create a session with the engine and schema
session = Session(engine, schema='example_schema')
"""

JOIN_BLOCK = """

df_a = session.table("tableA")
df_b = session.table("tableB")

df_joined = df_a.join(
        df_b,
        (df_a.key == df_b.key)
        & (df_a.date == df_b.date_right),
    )

df_joined.select(df_joined.key, df_joined.date_right).show() # trigger connection

"""

PROCESSING_BLOCK = """

from core.task import Task

@Task()
def processing():
    df_a = session.table("tableA")
    df_b = session.table("tableB")
    df_joined = df_a.join(
            df_b,
            (df_a.key == df_b.key)
            & (df_a.date == df_b.date_right),
        )
    df_joined.select(df_joined.key, df_joined.date_right)
    df_joined.write("new_table")

"""

DEPENDENCIES_BLOCK = """


@Task()
def processing():
    df_a = session.table("tableA")
    df_b = session.table("tableB")
    df_joined = df_a.join(
            df_b,
            (df_a.key == df_b.key)
            & (df_a.date == df_b.date_right),
        )
    df_joined.select(df_joined.key, df_joined.date_right)
    df_joined.write("new_table")

@Task(depends_on[processing])
def child_task():
    df = session.table("new_table")
    df.show()
"""

FULL_EXAMPLE = """
from sql.session import Session
from sqlalchemy import func, case
from core.task import Task
from core.schedule import Monthly
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

STATEMENT_BLOCK = """

from sqlalchemy import select, Table, MetaData
from sql.dataframe import DataFrame

engine = create_engine("sqlite:///example.db")
metadata = MetaData(schema='example_schema')
table = Table('example_table', metadata, autoload_with=engine)
base = select(table).cte()
df = DataFrame(base, engine)

"""

TABLE_METHOD_BLOCK = """

session = Session(engine=engine,schema="public")
df = session.table("predictions")
df.show()

"""

TABLE_A = pd.DataFrame(
    {
        "key": ["k1", "k2", "k3"],
        "date": ["2022-12-30", "2022-12-31", "2022-12-31"],
        "a": ["x", "y", "z"],
    }
)
TABLE_B = pd.DataFrame(
    {
        "key": ["k1", "k2", "k3"],
        "date_right": ["2022-12-30", "2022-12-30", "2022-12-31"],
        "b": ["p", "q", "r"],
    }
)
JOINED = [
    ("k1", "2022-12-30", "x", "2022-12-30", "p"),
    ("k3", "2022-12-31", "z", "2022-12-31", "r"),
]
PREDICTIONS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5, 6, 7],
        "matchDate": ["2022-12-30"] * 4 + ["2022-12-31"] * 3,
        "preds": ["hw", "d", "hw", "aw", "hw", "d", "d"],
    }
)


@pytest.fixture
def example_schema(engine: Engine):
    with readme_schema(engine, "example_schema") as schema:
        tables = {"tableA": TABLE_A, "tableB": TABLE_B, "example_table": PREDICTIONS}
        load_into(engine, schema, tables)
        yield schema


def session_block(engine: Engine, schema: str) -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec(port(SESSION_BLOCK, url_of(engine), {"example_schema": schema}), namespace)
    return namespace


def test_1_session_block_opens_the_schema(engine: Engine, example_schema: str) -> None:
    session = session_block(engine, example_schema)["session"]
    assert session.table_names() == ["example_table", "tableA", "tableB"]


def test_2_join_block_shows_the_matching_keys(engine: Engine, example_schema: str, capsys) -> None:
    namespace = session_block(engine, example_schema)
    exec(port(JOIN_BLOCK, url_of(engine)), namespace)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "|key|date_right|"
    assert lines[3:5] == ["| k1|2022-12-30|", "| k3|2022-12-31|"]
    assert rows_of(namespace["df_joined"].collect()) == JOINED


def models_source(block: str, engine: Engine, schema: str) -> str:
    """A models file: PyDBT's session block, then ``block``."""
    return port(SESSION_BLOCK + block, url_of(engine), {"example_schema": schema})


def test_3_processing_block_writes_the_join(migrated: Settings) -> None:
    engine = make_engine(migrated.database_url)
    with readme_schema(engine, "example_schema") as schema:
        load_into(engine, schema, {"tableA": TABLE_A, "tableB": TABLE_B})
        write_models(migrated.root, models_source(PROCESSING_BLOCK, engine, schema))
        report = run(migrated)
        assert report.tasks == {"processing": TaskState.SUCCESS}, report.errors
        assert rows_of(Session(engine, schema).table("new_table").collect()) == JOINED
    engine.dispose()


def test_4_dependencies_block_shows_the_parents_table(migrated: Settings, capsys) -> None:
    engine = make_engine(migrated.database_url)
    block = DEPENDENCIES_BLOCK.replace("depends_on[processing]", "depends_on=[processing]")
    with readme_schema(engine, "example_schema") as schema:
        load_into(engine, schema, {"tableA": TABLE_A, "tableB": TABLE_B})
        source = models_source("\nfrom core.task import Task\n" + block, engine, schema)
        write_models(migrated.root, source)
        report = run(migrated)
    engine.dispose()
    assert report.tasks == {"processing": TaskState.SUCCESS, "child_task": TaskState.SUCCESS}
    shown = capsys.readouterr().out.splitlines()
    assert "|key|      date|  a|date_right|  b|" in shown
    assert "| k3|2022-12-31|  z|2022-12-31|  r|" in shown


def test_5_full_example_runs_on_the_projects_database(migrated: Settings, capsys) -> None:
    engine = make_engine(migrated.database_url)
    kind = {"mariadb": "mysql"}.get(engine.dialect.name, engine.dialect.name)
    source = FULL_EXAMPLE.replace("connections.postgresql", f"connections.{kind}")
    with readme_schema(engine, "public") as schema:
        load_into(engine, schema, {"predictions": PREDICTIONS})
        write_models(migrated.root, port(source, "", {"public": schema}), "some_processing")
        report = run(migrated)
    engine.dispose()
    assert report.tasks == {
        name: TaskState.SUCCESS for name in ("task_one", "task_two", "task_three", "task_four")
    }
    shown = capsys.readouterr().out.splitlines()
    assert "| matchDate|preds|count_preds|" in shown
    for day, pred, count in [("30", "hw", 2), ("30", "d", 1), ("30", "aw", 1)]:
        assert f"|2022-12-{day}|{pred:>5}|{count:>11}|" in shown
    for pred, count in [("hw", 1), ("d", 2)]:
        assert f"|2022-12-31|{pred:>5}|{count:>11}|" in shown


def test_6_statement_block_and_table_method(engine: Engine, example_schema: str, capsys) -> None:
    namespace = session_block(engine, example_schema)
    opened = namespace["engine"]
    namespace["create_engine"] = lambda url: opened  # the block's engine: the one opened above
    exec(port(STATEMENT_BLOCK, url_of(engine), {"example_schema": example_schema}), namespace)
    assert rows_of(namespace["df"].collect()) == rows_of(PREDICTIONS)
    with readme_schema(engine, "public") as public:
        load_into(engine, public, {"predictions": PREDICTIONS})
        exec(port(TABLE_METHOD_BLOCK, url_of(engine), {"public": public}), namespace)
    assert namespace["df"].count() == len(PREDICTIONS)
    assert "|  1|2022-12-30|   hw|" in capsys.readouterr().out.splitlines()
