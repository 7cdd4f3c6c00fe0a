"""Conformance: every DataFrame method, checked against pandas computing the same thing."""

from __future__ import annotations

import copy
import pickle

import pandas as pd
import pytest
from sqlalchemy import Engine, Integer, case, func, select
from sqldata import (  # noqa: F401 (fixture)
    CUSTOMERS,
    ORDERS,
    PREDICTIONS,
    assert_same,
    load,
    rows_of,
    shared_engine,
)

from {{ cookiecutter.package_name }}.errors import ColumnNotFoundError, SQLLayerError
from {{ cookiecutter.package_name }}.sql.dataframe import DataFrame
from {{ cookiecutter.package_name }}.sql.session import Session


@pytest.fixture
def session(shared_engine: Engine) -> Session:
    return Session(shared_engine)


@pytest.fixture
def orders(session: Session) -> DataFrame:
    return session.table("orders")


def test_table_reads_every_row(orders):
    assert_same(orders, ORDERS, list(ORDERS.columns))


def test_select_by_column_name_and_expression(orders):
    df = orders.select(orders.id, "status", (orders.amount * 2).label("double"))
    expected = ORDERS.assign(double=ORDERS.amount * 2)[["id", "status", "double"]]
    assert_same(df, expected, ["id", "status", "double"])


def test_select_star_keeps_every_column(orders):
    assert orders.select("*").columns == list(ORDERS.columns)


def test_where_filters_rows(orders):
    df = orders.where(orders.amount > 4)
    assert_same(df, ORDERS[ORDERS.amount > 4])


def test_filter_is_where(orders):
    df = orders.filter((orders.status == "paid") & (orders.customer_id == 1))
    assert_same(df, ORDERS[(ORDERS.status == "paid") & (ORDERS.customer_id == 1)])


def test_with_column_appends_a_computed_column(orders):
    df = orders.with_column("big", case((orders.amount > 5, "yes"), else_="no"))
    expected = ORDERS.assign(big=["no", "yes", "no", "yes", "no", "no", "no"])
    assert_same(df, expected, [*ORDERS.columns, "big"])


def test_with_column_replaces_in_place(orders):
    df = orders.with_column("amount", orders.amount + 1)
    assert df.columns == list(ORDERS.columns)
    assert_same(df, ORDERS.assign(amount=ORDERS.amount + 1))


def test_with_columns_adds_several(orders):
    df = orders.with_columns(plus=orders.amount + 1, minus=orders.amount - 1)
    expected = ORDERS.assign(plus=ORDERS.amount + 1, minus=ORDERS.amount - 1)
    assert_same(df, expected, [*ORDERS.columns, "plus", "minus"])


def test_with_column_of_a_python_value(orders):
    df = orders.select("id").with_column("one", 1)
    assert_same(df, ORDERS[["id"]].assign(one=1))


def test_drop_removes_columns(orders):
    df = orders.drop("day", orders.status)
    assert_same(df, ORDERS.drop(columns=["day", "status"]), ["id", "customer_id", "amount"])


def test_with_column_renamed(orders):
    df = orders.with_column_renamed("amount", "value")
    assert df.columns == ["id", "customer_id", "value", "status", "day"]
    assert_same(df, ORDERS.rename(columns={"amount": "value"}))


def test_rename_of_a_computed_column(orders):
    df = orders.with_column("x", orders.id * 10).with_column_renamed("x", "y").select("id", "y")
    assert_same(df, ORDERS[["id"]].assign(y=ORDERS.id * 10))


def test_group_by_agg_keyed_by_column(orders):
    df = orders.group_by(orders.status, agg={orders.amount: (func.sum, "total")})
    expected = ORDERS.groupby("status", as_index=False).agg(total=("amount", "sum"))
    assert_same(df, expected, ["status", "total"])


def test_group_by_agg_keyed_by_name_aggregates_the_column(orders):
    df = orders.group_by("status", agg={"amount": (func.max, "top")})
    expected = ORDERS.groupby("status", as_index=False).agg(top=("amount", "max"))
    assert_same(df, expected, ["status", "top"])


def test_group_by_with_several_aggregates_per_column(orders):
    df = orders.group_by("customer_id", agg={"amount": [("sum", "s"), ("count", "n")]})
    expected = ORDERS.groupby("customer_id", as_index=False).agg(
        s=("amount", "sum"), n=("amount", "count")
    )
    assert_same(df, expected, ["customer_id", "s", "n"])


def test_group_by_then_agg_with_labelled_expressions(orders):
    df = orders.group_by("day").agg(func.avg(orders.amount).label("mean"))
    expected = ORDERS.groupby("day", as_index=False).agg(mean=("amount", "mean"))
    assert_same(df, expected, ["day", "mean"])


def test_grouped_count(orders):
    df = orders.group_by("status").count()
    expected = ORDERS.groupby("status", as_index=False).size().rename(columns={"size": "count"})
    assert_same(df, expected, ["status", "count"])


def test_agg_over_the_whole_frame(orders):
    df = orders.agg({"amount": (func.sum, "total"), "id": (func.count, "n")})
    assert rows_of(df.collect()) == [(ORDERS.amount.sum(), len(ORDERS))]


def test_where_on_an_aggregate_filters_groups(orders):
    grouped = orders.group_by("customer_id", agg={"amount": (func.sum, "total")})
    df = grouped.where(grouped.total > 6)
    sums = ORDERS.groupby("customer_id", as_index=False).agg(total=("amount", "sum"))
    assert_same(df, sums[sums.total > 6])


def test_group_by_a_computed_column(orders):
    df = orders.with_column("paid", orders.status == "paid").group_by(
        "paid", agg={"id": (func.count, "n")}
    )
    expected = ORDERS.assign(paid=ORDERS.status == "paid").groupby("paid", as_index=False)
    assert rows_of(df.collect()) == rows_of(expected.agg(n=("id", "count")).astype({"paid": int}))


def test_order_by_sorts(orders):
    df = orders.where(orders.amount.is_not(None)).order_by(orders.amount.desc())
    expected = ORDERS.dropna(subset=["amount"]).sort_values("amount", ascending=False)
    assert [r.id for r in df.collect()] == list(expected.id)


def test_order_by_name(orders):
    assert [r.id for r in orders.order_by("customer_id", "id").collect()] == list(
        ORDERS.sort_values(["customer_id", "id"]).id
    )


def test_limit_then_order_orders_the_limited_rows(orders):
    df = orders.order_by("id").limit(3).order_by(orders.id.desc())
    assert [r.id for r in df.collect()] == [12, 11, 10]


def test_limit_with_offset(orders):
    assert [r.id for r in orders.order_by("id").limit(2, offset=3).collect()] == [13, 14]


def test_distinct(orders):
    df = orders.select("status").distinct()
    assert_same(df, ORDERS[["status"]].drop_duplicates())


def test_where_after_distinct_filters_the_distinct_rows(orders):
    df = orders.select("customer_id").distinct()
    df = df.where(df.customer_id > 1)
    assert_same(df, ORDERS[["customer_id"]].drop_duplicates().query("customer_id > 1"))


def test_cast_by_type_name(orders):
    df = orders.select("id", "amount").cast("amount", "integer").where(orders.id == 11)
    assert df.collect()[0].amount in (7, 8)  # SQL engines round or truncate; both are integers
    assert isinstance(df.collect()[0].amount, int)


def test_cast_by_type_object(orders):
    df = orders.cast(orders.customer_id, Integer()).select("customer_id")
    assert_same(df, ORDERS[["customer_id"]])


def test_alias_names_the_subquery(orders):
    assert 'AS "o"' in orders.alias("o").sql() or "AS o" in orders.alias("o").sql()


def test_window_function_through_over(orders):
    rank = func.row_number().over(partition_by=orders.customer_id, order_by=orders.id)
    df = orders.select("id", "customer_id", rank.label("rn"))
    expected = ORDERS.sort_values("id").assign(
        rn=lambda f: f.groupby("customer_id").cumcount() + 1
    )[["id", "customer_id", "rn"]]
    assert_same(df, expected)


def test_where_on_a_window_column_wraps_it(orders):
    rank = func.row_number().over(partition_by=orders.customer_id, order_by=orders.id)
    df = orders.select("id", "customer_id", rank.label("rn"))
    df = df.where(df.rn == 1)
    first = ORDERS.sort_values("id").groupby("customer_id", as_index=False).first()
    assert_same(df.select("id"), first[["id"]])


def test_union_matches_columns_by_name(session, orders):
    a = orders.select("id", "status").where(orders.id < 12)
    b = orders.select("status", "id").where(orders.id > 14)
    expected = ORDERS[(ORDERS.id < 12) | (ORDERS.id > 14)][["id", "status"]]
    assert_same(a.union(b), expected, ["id", "status"])


def test_union_removes_duplicates_and_union_all_keeps_them(orders):
    a = orders.select("status")
    assert len(a.union(a).collect()) == ORDERS.status.nunique()
    assert len(a.union_all(a).collect()) == 2 * len(ORDERS)


def test_collect_rows_read_by_name_index_and_attribute(orders):
    row = orders.where(orders.id == 10).collect()[0]
    assert (row.id, row["status"], row[0], dict(row)["customer_id"]) == (10, "paid", 10, 1)


def test_first_returns_first_row_or_none(orders):
    assert orders.order_by("id").first().id == 10
    assert orders.where(orders.id < 0).first() is None


def test_count(orders):
    assert orders.where(orders.status == "open").count() == (ORDERS.status == "open").sum()


def test_show_prints_an_aligned_table(orders, capsys):
    orders.select("id", "status").order_by("id").show(2)
    assert capsys.readouterr().out.splitlines() == [
        "+---+------+",
        "| id|status|",
        "+---+------+",
        "| 10|  paid|",
        "| 11|  paid|",
        "+---+------+",
        "only showing top 2 rows",
    ]


def test_to_pandas_returns_every_row(orders):
    frame = orders.to_pandas()
    assert list(frame.columns) == list(ORDERS.columns)
    assert rows_of(frame) == rows_of(ORDERS)


def test_iter_batches_streams_in_batches(orders):
    batches = list(orders.order_by("id").iter_batches(3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [r.id for b in batches for r in b] == list(ORDERS.id)


def test_columns_and_schema(orders):
    assert orders.columns == list(ORDERS.columns)
    assert list(orders.schema) == list(ORDERS.columns)
    assert isinstance(orders.schema["id"], Integer)


def test_sql_is_one_statement_with_literals(orders):
    sql = orders.where(orders.status == "paid").group_by("day", agg={"id": (func.count, "n")}).sql()
    assert sql.lstrip().upper().startswith("SELECT") and "'paid'" in sql and ";" not in sql


def test_explain_of_a_pattern_with_percent(orders):
    assert orders.where(orders.status.like("p%")).explain()


def test_like_with_percent_keeps_its_meaning(orders):
    assert orders.where(orders.status.like("p%")).count() == (ORDERS.status == "paid").sum()


def test_explain_returns_the_plan(orders, capsys):
    plan = orders.where(orders.id == 10).explain()
    assert plan and plan in capsys.readouterr().out


def test_transformations_do_not_change_the_original(orders):
    before = orders.sql()
    orders.where(orders.id > 1).with_column("x", 1).select("x")
    assert orders.sql() == before


def test_a_dataframe_can_be_reused_after_materialize(session, orders):
    df = orders.where(orders.status == "paid")
    assert df.materialize("paid") == 3
    assert df.materialize("paid") == 3


def test_dataframe_over_a_cte_like_pydbt(shared_engine):
    from sqlalchemy import MetaData, Table

    table = Table("predictions", MetaData(), autoload_with=shared_engine)
    df = DataFrame(select(table).cte(), shared_engine)
    assert_same(df.where(df.preds == "hw"), PREDICTIONS[PREDICTIONS.preds == "hw"])


def test_dataframe_over_a_union_reads_its_rows(shared_engine):
    from sqlalchemy import MetaData, Table, union

    table = Table("predictions", MetaData(), autoload_with=shared_engine)
    both = union(select(table).where(table.c.id <= 2), select(table).where(table.c.id >= 5))
    df = DataFrame(both, shared_engine)
    assert sorted(r.id for r in df.where(df.id != 1).collect()) == [2, 5, 6]


def test_session_sql_builds_a_dataframe(session):
    df = session.sql("SELECT id, amount FROM orders WHERE status = :s", s="paid")
    assert df.columns == ["id", "amount"]
    assert_same(
        df.where(df.amount > 6), ORDERS.query("status == 'paid' and amount > 6")[["id", "amount"]]
    )


def test_create_dataframe_loads_pandas_and_rows(session):
    df = session.create_dataframe(CUSTOMERS, "people")
    assert_same(df, CUSTOMERS)
    rows = session.create_dataframe([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert rows_of(rows.collect()) == [(1, "x"), (2, "y")]


def test_create_dataframe_replaces_a_table(session):
    session.create_dataframe(CUSTOMERS, "people")
    df = session.create_dataframe(CUSTOMERS.head(2), "people")
    assert df.count() == 2


def test_method_named_column_is_reachable_by_item(shared_engine):
    load(shared_engine, "odd", pd.DataFrame({"select": ["a", "b"], "count": ["c", "d"]}))
    df = Session(shared_engine).table("odd")
    assert callable(df.select) and callable(df.count)
    assert [r["count"] for r in df.where(df["select"] == "b").collect()] == ["d"]


def test_unknown_attribute_lists_columns(orders):
    with pytest.raises(AttributeError, match=r"no column 'nope'.*id, customer_id, amount"):
        orders.nope
    assert not hasattr(orders, "nope")


def test_underscore_column_is_reached_by_item(shared_engine):
    load(shared_engine, "under", pd.DataFrame({"_id": ["a"], "v": ["b"]}))
    df = Session(shared_engine).table("under")
    assert df["_id"] is not None and df.select("_id").collect()[0]["_id"] == "a"
    with pytest.raises(AttributeError, match=r"reach the column as df\['_id'\]"):
        df._id


def test_unknown_item_raises_key_error(orders):
    with pytest.raises(KeyError, match="no column 'nope'"):
        orders["nope"]


def test_copy_and_deepcopy_keep_the_frame(orders):
    assert copy.copy(orders).sql() == orders.sql() == copy.deepcopy(orders).sql()


def test_pickle_round_trip_gives_same_rows(orders):
    clone = pickle.loads(pickle.dumps(orders.where(orders.status == "paid")))
    assert rows_of(clone.collect()) == rows_of(ORDERS[ORDERS.status == "paid"])
    clone._state.engine.dispose()


def test_dataframes_are_immutable(orders):
    with pytest.raises(AttributeError, match="immutable"):
        orders.amount = 3


def test_dataframe_with_no_columns_is_refused(orders):
    with pytest.raises(SQLLayerError, match="no columns"):
        orders.drop(*orders.columns)


def test_select_of_nothing_is_refused(orders):
    with pytest.raises(SQLLayerError, match="at least one column"):
        orders.select()


def test_unknown_column_name_in_a_method_is_refused(orders):
    with pytest.raises(ColumnNotFoundError, match="no column 'amont'"):
        orders.select("amont")


def test_column_of_another_frame_is_refused(session, orders):
    customers = session.table("customers")
    with pytest.raises(SQLLayerError, match="not part of this DataFrame"):
        orders.where(customers.country == "FR").collect()


def test_unnamed_expression_is_refused(orders):
    with pytest.raises(SQLLayerError, match=r"has no name; give it one with \.label"):
        orders.select(orders.amount * 2)


def test_twenty_step_chain_compiles_to_one_statement(orders):
    df = orders
    for step in range(20):
        df = df.with_column(f"c{step}", df.amount + step) if step % 2 else df.where(df.id > step)
    assert df.sql().upper().count("SELECT") == 1
    assert len(df.collect()) == len(ORDERS[ORDERS.id > 18])
