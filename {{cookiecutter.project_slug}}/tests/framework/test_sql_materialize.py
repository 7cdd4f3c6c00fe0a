"""Materializations: tables swapped in whole, views replaced, increments merged, names quoted."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, inspect, literal, text
from sqldata import ORDERS, assert_same, load_all, rows_of

from {{ cookiecutter.package_name }}.errors import MaterializeError, SQLLayerError
from {{ cookiecutter.package_name }}.sql.materialize import clean_leftovers
from {{ cookiecutter.package_name }}.sql.session import Session


@pytest.fixture
def session(engine: Engine) -> Session:
    load_all(engine)
    return Session(engine)


def _objects(engine: Engine) -> set[str]:
    inspector = inspect(engine)
    return {*inspector.get_table_names(), *inspector.get_view_names()}


def test_table_materialization_returns_rows_written(session):
    orders = session.table("orders")
    assert orders.where(orders.status == "paid").materialize("paid") == 3
    assert_same(session.table("paid"), ORDERS[ORDERS.status == "paid"])


def test_table_rebuild_replaces_contents_and_shape(session):
    orders = session.table("orders")
    orders.materialize("copy")
    orders.select("id").where(orders.id > 14).materialize("copy")
    again = session.table("copy")
    assert again.columns == ["id"] and rows_of(again.collect()) == [(15,), (16,)]


def test_table_build_leaves_no_shadow_tables(session, engine):
    session.table("orders").materialize("copy")
    session.table("orders").materialize("copy")
    assert not [n for n in _objects(engine) if "__pl_" in n]


def test_materialized_table_keeps_types(session):
    session.table("orders").materialize("copy")
    row = session.table("copy").where(session.table("copy").id == 10).first()
    assert row.day.isoformat() == "2022-12-30" and row.amount == 5.0


def test_failed_build_keeps_the_old_table(session, engine):
    orders = session.table("orders")
    orders.materialize("copy")
    broken = orders.select("id", (orders.id / literal(0)).label("x")).with_column(
        "x", func.nonexistent_function(orders.id)
    )
    with pytest.raises(MaterializeError, match="could not materialize 'copy' as a table"):
        broken.materialize("copy")
    assert_same(session.table("copy"), ORDERS)
    assert not [n for n in _objects(engine) if "__pl_" in n]


def test_leftover_shadow_tables_are_cleaned_at_next_build(session, engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE copy__pl_tmp (x INTEGER)"))
        conn.execute(text("CREATE TABLE copy__pl_old (x INTEGER)"))
    session.table("orders").materialize("copy")
    assert {"copy__pl_tmp", "copy__pl_old"}.isdisjoint(_objects(engine))


def test_clean_leftovers_drops_every_shadow_table(engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE a__pl_tmp (x INTEGER)"))
        conn.execute(text("CREATE TABLE b__pl_old (x INTEGER)"))
    assert sorted(clean_leftovers(engine)) == ["a__pl_tmp", "b__pl_old"]
    assert not [n for n in _objects(engine) if "__pl_" in n]


def test_indexes_are_created(session, engine):
    session.table("orders").materialize("copy", indexes=["customer_id", ("status", "day")])
    names = {ix["name"] for ix in inspect(engine).get_indexes("copy")}
    assert names == {"ix_copy_customer_id", "ix_copy_status_day"}


def test_index_on_unknown_column_is_refused(session):
    with pytest.raises(SQLLayerError, match="no such column"):
        session.table("orders").materialize("copy", indexes=["nope"])


def test_view_materialization_reflects_later_changes(session, engine):
    orders = session.table("orders")
    assert orders.where(orders.status == "open").materialize("open_orders", as_="view") == 0
    assert session.table("open_orders").count() == 3
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'open' WHERE id = 10"))
    assert session.table("open_orders").count() == 4


def test_view_can_be_replaced_and_can_replace_a_table(session, engine):
    orders = session.table("orders")
    orders.materialize("thing")
    orders.select("id").materialize("thing", as_="view")
    orders.select("id", "status").materialize("thing", as_="view")
    assert "thing" in inspect(engine).get_view_names()
    assert session.table("thing").columns == ["id", "status"]
    assert not [n for n in _objects(engine) if "__pl_" in n]


def test_table_can_replace_a_view(session, engine):
    orders = session.table("orders")
    orders.materialize("thing", as_="view")
    orders.select("id").materialize("thing")
    assert "thing" in inspect(engine).get_table_names()
    assert "thing" not in inspect(engine).get_view_names()


def test_view_over_a_table_survives_the_table_rebuild(session):
    orders = session.table("orders")
    orders.materialize("base")
    session.table("base").where(session.table("base").status == "paid").materialize(
        "paid_view", as_="view"
    )
    orders.where(orders.id > 12).materialize("base")
    assert rows_of(session.table("paid_view").select("id").collect()) == [(13,)]


def test_incremental_appends_without_a_key(session):
    orders = session.table("orders")
    orders.where(orders.id < 12).materialize("log", as_="incremental")
    written = orders.where(orders.id >= 15).materialize("log", as_="incremental")
    assert written == 2
    assert sorted(r.id for r in session.table("log").collect()) == [10, 11, 15, 16]


def test_incremental_upserts_by_unique_key(session):
    orders = session.table("orders")
    orders.materialize("latest", as_="incremental", unique_key="id")
    changed = orders.where(orders.id >= 15).with_column("status", literal("done"))
    assert changed.materialize("latest", as_="incremental", unique_key="id") == 2
    result = {r.id: r.status for r in session.table("latest").collect()}
    assert len(result) == len(ORDERS) and result[15] == result[16] == "done"


def test_incremental_with_a_compound_key(session):
    orders = session.table("orders")
    orders.materialize("latest", as_="incremental", unique_key=["id", "customer_id"])
    orders.where(orders.id == 10).materialize(
        "latest", as_="incremental", unique_key=["id", "customer_id"]
    )
    assert session.table("latest").count() == len(ORDERS)


def test_incremental_reading_its_own_target(session):
    orders = session.table("orders")
    orders.where(orders.id < 13).materialize("grow", as_="incremental")
    target = session.table("grow")
    newest = target.agg({"id": (func.max, "top")}).first().top
    assert orders.where(orders.id > newest).materialize("grow", as_="incremental") == 4
    assert session.table("grow").count() == len(ORDERS)


def test_incremental_with_a_new_column_is_refused(session):
    orders = session.table("orders")
    orders.select("id").materialize("narrow", as_="incremental")
    with pytest.raises(SQLLayerError, match="no column"):
        orders.select("id", "status").materialize("narrow", as_="incremental")


def test_incremental_unique_key_must_be_a_column(session):
    orders = session.table("orders")
    orders.materialize("t1", as_="incremental")
    with pytest.raises(SQLLayerError, match="unique_key"):
        orders.materialize("t1", as_="incremental", unique_key="nope")


@pytest.mark.parametrize(
    "name", ["with space", 'quote"d', "back`tick", "select", "Mixed Case", "pct%name", "it's"]
)
def test_awkward_names_are_quoted(session, engine, name):
    orders = session.table("orders")
    assert orders.materialize(name) == len(ORDERS)
    assert name in _objects(engine)
    assert session.table(name).count() == len(ORDERS)
    orders.materialize(name, as_="view")
    assert session.table(name).count() == len(ORDERS)


def test_injection_through_a_name_creates_nothing_else(session, engine):
    name = "x; DROP TABLE orders; --"
    session.table("orders").materialize(name)
    assert {"orders", name} <= _objects(engine)


def test_wrong_form_is_refused(session):
    with pytest.raises(SQLLayerError, match="as_='tabel'.*table, view, incremental"):
        session.table("orders").materialize("x", as_="tabel")


def test_name_too_long_once_suffixed_is_refused(session, engine):
    limits = {"mysql": 64, "mariadb": 64, "postgresql": engine.dialect.max_identifier_length}
    limit = limits.get(engine.dialect.name, 9999)
    name = "t" * (limit - 3)
    with pytest.raises(SQLLayerError, match=rf"is {limit - 3} characters.*at most {limit - 8}"):
        session.table("orders").materialize(name)


def test_empty_name_is_refused(session):
    with pytest.raises(SQLLayerError, match="non-empty string"):
        session.table("orders").materialize("")


def test_write_is_a_table_materialization(session):
    assert session.table("orders").write("written") == len(ORDERS)
    assert session.table("orders").write("written", mode="append") == len(ORDERS)
    assert session.table("written").count() == 2 * len(ORDERS)


def test_session_table_sees_the_rebuilt_shape(session):
    orders = session.table("orders")
    orders.materialize("shape")
    assert session.table("shape").columns == list(ORDERS.columns)
    orders.select("id").materialize("shape")
    assert session.table("shape").columns == ["id"]


def test_readers_never_see_the_table_missing(session, engine):
    orders = session.table("orders")
    orders.materialize("busy")
    stop, errors = threading.Event(), []

    def read() -> None:
        while not stop.is_set():
            try:
                with engine.connect() as conn:
                    assert conn.execute(text("SELECT COUNT(*) FROM busy")).scalar() == len(ORDERS)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(15):
            orders.materialize("busy")
    finally:
        stop.set()
        reader.join()
    assert errors == []
