"""pydwt's DataFrame idioms that ours refused: SQL text in where/filter, union of frames whose
columns differ, to_cte, and create_dataframe from any selectable. Each on every backend."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, MetaData, Table, func, select
from sqldata import rows_of

from {{ cookiecutter.package_name }}.errors import SQLLayerError
from {{ cookiecutter.package_name }}.sql.session import Session

PEOPLE = pd.DataFrame(
    {"id": [1, 2, 3, 4], "name": ["Ada", "Bob", "Cy", "Di"], "age": [25, 31, 47, 30]}
)
CITIES = pd.DataFrame({"id": [1, 2, 3], "city": ["Paris", "Leeds", "Lyon"]})
VISITORS = pd.DataFrame({"name": ["Eve", "Bob"], "city": ["Rome", "Leeds"]})


@pytest.fixture
def session(engine: Engine) -> Session:
    session = Session(engine)
    session.create_dataframe(PEOPLE, name="people")
    session.create_dataframe(CITIES, name="cities")
    session.create_dataframe(VISITORS, name="visitors")
    return session


def test_where_takes_a_sql_string_condition(session: Session) -> None:
    df = session.table("people")
    assert rows_of(df.where("age > 30").collect()) == [(2, "Bob", 31), (3, "Cy", 47)]


def test_filter_takes_a_sql_string_condition(session: Session) -> None:
    df = session.table("people")
    assert rows_of(df.filter("age > 30 AND name <> 'Cy'").collect()) == [(2, "Bob", 31)]


def test_a_string_condition_composes_with_where_select_and_join(session: Session) -> None:
    people, cities = session.table("people"), session.table("cities")
    df = people.where("age > 26").where(people.name != "Cy").select("id", "name")
    joined = df.join(cities, "id").where("city = 'Leeds'")
    assert rows_of(joined.collect()) == [(2, "Bob", "Leeds")]
    assert joined.columns == ["id", "name", "city"]


def test_a_string_condition_sees_computed_and_renamed_columns(session: Session) -> None:
    df = session.table("people")
    df = df.with_column("age_in_months", df.age * 12).with_column_renamed("name", "who")
    older = df.where("age_in_months >= 372").where("who <> 'Cy'")
    assert rows_of(older.collect()) == [(2, "Bob", 31, 372)]


def test_a_string_condition_after_group_by_filters_the_groups(session: Session) -> None:
    df = session.table("visitors").union(session.table("people"))
    counted = df.group_by(df.city, agg={"name": (func.count, "visitors")})
    assert rows_of(counted.where("visitors > 1").collect()) == [(None, 4)]


def test_union_fills_the_missing_columns_with_null_by_name(session: Session) -> None:
    people = session.table("people").select("name", "age")
    visitors = session.table("visitors")
    both = people.union(visitors)
    assert both.columns == ["name", "age", "city"]
    assert rows_of(both.collect()) == [
        ("Ada", 25, None),
        ("Bob", 31, None),
        ("Bob", None, "Leeds"),
        ("Cy", 47, None),
        ("Di", 30, None),
        ("Eve", None, "Rome"),
    ]
    assert rows_of(visitors.union_all(people).where("city IS NULL").select("name").collect()) == [
        ("Ada",),
        ("Bob",),
        ("Cy",),
        ("Di",),
    ]


def test_union_strict_refuses_differing_columns_naming_them(session: Session) -> None:
    people, visitors = session.table("people"), session.table("visitors")
    with pytest.raises(SQLLayerError) as caught:
        people.union(visitors, strict=True)
    assert "only on the left ['age', 'id'], only on the right ['city']" in str(caught.value)
    same = people.select("name").union(visitors.select("name"), strict=True)
    assert rows_of(same.collect()) == [("Ada",), ("Bob",), ("Cy",), ("Di",), ("Eve",)]


def test_union_by_name_allows_missing_columns_only_when_told(session: Session) -> None:
    people, visitors = session.table("people").select("name"), session.table("visitors")
    with pytest.raises(SQLLayerError, match="only on the right"):
        people.unionByName(visitors)
    both = people.unionByName(visitors, allowMissingColumns=True)
    assert len(both.where("city IS NOT NULL").collect()) == 2


def test_to_cte_gives_a_cte_to_select_from(session: Session) -> None:
    df = session.table("people").where("age < 31")
    cte = df.to_cte()
    with session.engine.connect() as conn:
        rows = conn.execute(select(cte.c.name).order_by(cte.c.name)).all()
    assert [tuple(r) for r in rows] == [("Ada",), ("Di",)]


def test_create_dataframe_from_a_cte_a_select_and_a_table(session: Session) -> None:
    cte = session.table("people").where("age > 30").to_cte()
    from_cte = session.create_dataframe(cte)
    assert rows_of(from_cte.collect()) == [(2, "Bob", 31), (3, "Cy", 47)]
    stmt = select(cte.c.name, (cte.c.age + 1).label("next_age")).where(cte.c.age < 40)
    assert rows_of(session.create_dataframe(stmt).collect()) == [("Bob", 32)]
    table = Table("cities", MetaData(), autoload_with=session.engine)
    from_table = session.create_dataframe(table)
    assert rows_of(from_table.where(from_table.id > 1).collect()) == [(2, "Leeds"), (3, "Lyon")]


def test_a_dataframe_from_a_cte_materializes(session: Session) -> None:
    cte = session.table("people").where("age >= 30").to_cte()
    session.create_dataframe(cte).select("name").materialize("thirty_and_over")
    assert rows_of(session.table("thirty_and_over").collect()) == [("Bob",), ("Cy",), ("Di",)]
