"""Conformance of every join kind against pandas, and the handling of clashing names."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, literal
from sqldata import CUSTOMERS, ORDERS, assert_same, rows_of, shared_engine  # noqa: F401 (fixture)

from {{ cookiecutter.package_name }}.errors import AmbiguousColumnError, SQLLayerError
from {{ cookiecutter.package_name }}.sql.dataframe import DataFrame
from {{ cookiecutter.package_name }}.sql.session import Session

OUT = ["id", "customer_id", "amount", "status", "day", "name", "country"]


@pytest.fixture
def session(shared_engine: Engine) -> Session:
    return Session(shared_engine)


@pytest.fixture
def orders(session: Session) -> DataFrame:
    return session.table("orders")


@pytest.fixture
def customers(session: Session) -> DataFrame:
    return session.table("customers")


def _merged(how: str) -> pd.DataFrame:
    frame = ORDERS.merge(CUSTOMERS, on="customer_id", how=how)
    return frame[OUT]


def test_inner_join_on_a_condition(orders, customers):
    df = orders.join(customers, orders.customer_id == customers.customer_id)
    assert_same(df, _merged("inner"), OUT)


def test_inner_join_on_a_column_name(orders, customers):
    assert_same(orders.join(customers, "customer_id"), _merged("inner"), OUT)


def test_left_join_keeps_unmatched_left_rows(orders, customers):
    df = orders.join(customers, ["customer_id"], how="left")
    assert_same(df, _merged("left"), OUT)


def test_right_join_keeps_unmatched_right_rows(orders, customers):
    df = orders.join(customers, orders.customer_id == customers.customer_id, how="right")
    assert_same(df, _merged("right"), OUT)


def test_full_join_keeps_both_unmatched_sides(orders, customers):
    df = orders.join(customers, orders.customer_id == customers.customer_id, how="full")
    assert_same(df, _merged("outer"), OUT)


def test_cross_join_pairs_every_row(orders, customers):
    df = orders.select("id").join(customers.select("name"), how="cross")
    expected = ORDERS[["id"]].merge(CUSTOMERS[["name"]], how="cross")
    assert_same(df, expected, ["id", "name"])


def test_semi_join_keeps_left_rows_with_a_match(orders, customers):
    df = orders.join(customers, orders.customer_id == customers.customer_id, how="semi")
    assert_same(df, ORDERS[ORDERS.customer_id.isin(CUSTOMERS.customer_id)], list(ORDERS.columns))


def test_anti_join_keeps_left_rows_without_a_match(orders, customers):
    df = orders.join(customers, "customer_id", how="anti")
    assert_same(df, ORDERS[~ORDERS.customer_id.isin(CUSTOMERS.customer_id)])


def test_join_on_a_compound_condition(orders, customers):
    fr = customers.where(customers.country == "FR")
    df = orders.join(fr, (orders.customer_id == fr.customer_id) & (orders.amount > 4))
    expected = _merged("inner").query("country == 'FR' and amount > 4")
    assert_same(df, expected, OUT)


def test_join_of_filtered_and_grouped_frames(orders, customers):
    totals = orders.group_by("customer_id", agg={"amount": ("sum", "total")})
    df = customers.join(totals, customers.customer_id == totals.customer_id, how="left")
    sums = ORDERS.groupby("customer_id", as_index=False).agg(total=("amount", "sum"))
    expected = CUSTOMERS.merge(sums, on="customer_id", how="left")
    assert_same(df, expected, ["customer_id", "name", "country", "total"])


def test_columns_of_either_side_usable_after_join(orders, customers):
    df = orders.join(customers, "customer_id").where(customers.country == "FR")
    df = df.select(orders.id, customers.name)
    assert_same(df, _merged("inner").query("country == 'FR'")[["id", "name"]])


def test_clashing_names_are_ambiguous(orders, customers):
    other = customers.with_column_renamed("customer_id", "cid").with_column("status", literal("x"))
    df = orders.join(other, orders.customer_id == other.cid)
    assert df.columns.count("status") == 2
    with pytest.raises(AmbiguousColumnError, match="'status' is ambiguous"):
        df.status


def test_ambiguous_frame_cannot_be_materialized(orders, customers):
    other = customers.with_column("status", literal("x"))
    df = orders.join(other, "customer_id")
    with pytest.raises(AmbiguousColumnError, match="'status' is ambiguous"):
        df.materialize("nope")


def test_picking_one_side_resolves_the_clash(orders, customers):
    other = customers.with_column("status", literal("x"))
    df = orders.join(other, "customer_id").select(
        orders.id, orders.status, other.status.label("s2")
    )
    expected = _merged("inner")[["id", "status"]].assign(s2="x")
    assert_same(df, expected, ["id", "status", "s2"])


def test_suffixes_rename_the_clashing_columns(orders, customers):
    other = customers.with_column("status", literal("x"))
    df = orders.join(other, "customer_id", suffixes=("_o", "_c"))
    assert "status_o" in df.columns and "status_c" in df.columns
    assert {r.status_c for r in df.collect()} == {"x"}


def test_self_join_needs_an_alias(orders):
    with pytest.raises(SQLLayerError, match="alias"):
        orders.join(orders, orders.id == orders.id)


def test_self_join_with_aliases(orders):
    a, b = orders.alias("a"), orders.alias("b")
    df = a.join(b, (a.customer_id == b.customer_id) & (a.id < b.id), suffixes=("", "_2"))
    df = df.select(a.id, b.id.label("later"))
    pairs = ORDERS.merge(ORDERS, on="customer_id").query("id_x < id_y")[["id_x", "id_y"]]
    assert rows_of(df.collect()) == rows_of(pairs)


def test_unknown_join_kind_is_refused(orders, customers):
    with pytest.raises(SQLLayerError, match="not a join kind"):
        orders.join(customers, "customer_id", how="sideways")


def test_join_condition_from_a_third_frame_is_refused(session, orders, customers):
    preds = session.table("predictions")
    with pytest.raises(SQLLayerError, match="neither side"):
        orders.join(customers, orders.customer_id == preds.id)
