"""The pydwt and PyDBT README DataFrame examples, unchanged but for the import prefix."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine
from sqldata import PREDICTIONS, load, rows_of

from {{ cookiecutter.package_name }}.core.task import Task
from {{ cookiecutter.package_name }}.sql.dataframe import DataFrame
from {{ cookiecutter.package_name }}.sql.session import Session

MY_TABLE = pd.DataFrame({"col1": [5, 11, 12, 30, 40], "col2": ["a", "a", "b", "b", "b"]})
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


@pytest.fixture
def engine_and_schema(engine: Engine) -> tuple[Engine, str]:
    """The README passes a schema: SQLite's main database, the MySQL test database, or
    PostgreSQL's public schema."""
    load(engine, "my_table", MY_TABLE)
    load(engine, "features", PREDICTIONS)
    load(engine, "predictions", PREDICTIONS)
    load(engine, "tableA", TABLE_A)
    load(engine, "tableB", TABLE_B)
    schemas = {"sqlite": "main", "postgresql": "public"}
    return engine, schemas.get(engine.dialect.name, engine.url.database)


def test_pydwt_dataframe_example(engine_and_schema):
    engine, my_schema = engine_and_schema
    from sqlalchemy import func

    session = Session(engine, schema=my_schema)

    df = session.table("my_table")

    # select some columns
    df = df.select(df.col1, df.col2)

    # filter rows based on a condition
    df = df.where(df.col1 > 10)

    # group by a column and aggregate another column
    df = df.group_by(df.col2, agg={df.col1: (func.sum, "sum_col1")})

    # show the resulting DataFrame
    df.materialize("new_table", as_="table")

    result = session.table("new_table").collect()
    assert rows_of(result) == [("a", 11), ("b", 82)]


def test_pydwt_task_example(engine_and_schema, capsys):
    engine, _ = engine_and_schema
    from sqlalchemy import case

    session = Session(engine)

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

    task_one()
    task_two()
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].split("|")[1:-1] == [c.rjust(len(c)) for c in printed[1].split("|")[1:-1]]
    assert len(printed) == 3 + int((PREDICTIONS.preds == "hw").sum()) + 1


def test_pydwt_view_materialization(engine_and_schema):
    engine, my_schema = engine_and_schema
    session = Session(engine, schema=my_schema)
    df = session.table("my_table")
    df.where(df.col1 > 10).materialize("new_view", as_="view")
    assert session.table("new_view").count() == 4


def test_pydbt_join_example(engine_and_schema, capsys):
    engine, _ = engine_and_schema
    session = Session(engine, schema=None)

    df_a = session.table("tableA")
    df_b = session.table("tableB")

    df_joined = df_a.join(
        df_b,
        (df_a.key == df_b.key) & (df_a.date == df_b.date_right),
    )

    df_joined.select(df_joined.key, df_joined.date_right).show()  # trigger connection

    df_joined.write("new_table")

    out = capsys.readouterr().out
    assert "|key|date_right|" in out and "| k1|2022-12-30|" in out and "k2" not in out
    assert rows_of(session.table("new_table").collect()) == [
        ("k1", "2022-12-30", "x", "2022-12-30", "p"),
        ("k3", "2022-12-31", "z", "2022-12-31", "r"),
    ]


def test_pydbt_models_example(engine_and_schema, capsys):
    engine, _ = engine_and_schema
    from sqlalchemy import case, func

    session = Session(engine=engine, schema=None)

    @Task(depends_on=[])
    def task_two():
        df = session.table("predictions")
        df = df.where((df.matchDate == "2022-12-30"))
        df = df.with_column("new_column", case((df.preds == "hw", "W")))
        df = df.group_by(df.matchDate, df.preds, agg={"preds": (func.count, "count_preds")})
        df.show()
        return df

    df = task_two()
    expected = (
        PREDICTIONS[PREDICTIONS.matchDate.astype(str) == "2022-12-30"]
        .groupby(["matchDate", "preds"], as_index=False)
        .agg(count_preds=("preds", "count"))
    )
    assert rows_of(df.collect()) == rows_of(expected)
    assert "count_preds" in capsys.readouterr().out


def test_pydbt_dataframe_from_a_cte(engine_and_schema):
    engine, example_schema = engine_and_schema
    from sqlalchemy import MetaData, Table, select

    metadata = MetaData(schema=example_schema)
    table = Table("predictions", metadata, autoload_with=engine)
    base = select(table).cte()
    df = DataFrame(base, engine)

    assert rows_of(df.collect()) == rows_of(PREDICTIONS)
