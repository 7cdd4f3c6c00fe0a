"""Small tables and comparison helpers shared by the SQL-layer tests."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from mysql_support import BACKENDS, fresh_database
from sqlalchemy import (
    Column,
    Date,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
)

CUSTOMERS = pd.DataFrame(
    {
        "customer_id": [1, 2, 3, 4],
        "name": ["Ada", "Bob", "Cy", "Di"],
        "country": ["FR", "UK", "FR", None],
    }
)
ORDERS = pd.DataFrame(
    {
        "id": [10, 11, 12, 13, 14, 15, 16],
        "customer_id": [1, 1, 2, 3, 5, 2, 1],
        "amount": [5.0, 7.5, 3.0, 12.0, 1.0, 4.5, None],
        "status": ["paid", "paid", "open", "paid", "open", "void", "open"],
        "day": [dt.date(2022, 12, d) for d in (30, 30, 30, 31, 31, 31, 31)],
    }
)
PREDICTIONS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5, 6],
        "matchDate": [dt.date(2022, 12, 30)] * 3 + [dt.date(2022, 12, 31)] * 3,
        "preds": ["hw", "d", "hw", "aw", "hw", "d"],
        "home": ["A", "B", "C", "D", "E", "F"],
    }
)
TYPES = {
    "customer_id": Integer,
    "id": Integer,
    "col1": Integer,
    "amount": Float,
    "day": Date,
    "matchDate": Date,
}


def load(engine: Engine, name: str, frame: pd.DataFrame) -> Table:
    """Create ``name`` with explicit types and insert the frame's rows."""
    columns = [Column(c, TYPES.get(c, String(40))) for c in frame.columns]
    table = Table(name, MetaData(), *columns)
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)
        conn.execute(table.insert(), records)
    return table


def load_all(engine: Engine) -> None:
    load(engine, "customers", CUSTOMERS)
    load(engine, "orders", ORDERS)
    load(engine, "predictions", PREDICTIONS)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_engine(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Engine]:
    """One loaded database per test module and backend, for tests that only read it.

    Tests using it may write tables of their own names, never the loaded ones.
    """
    from {{ cookiecutter.package_name }}.db.engine import make_engine

    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('sql') / 'shared.db'}")
        load_all(engine)
        yield engine
        engine.dispose()
        return
    with fresh_database(request.param) as url:
        engine = make_engine(url)
        try:
            load_all(engine)
            yield engine
        finally:
            engine.dispose()


def _norm(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (Decimal, float)):
        return round(float(value), 6)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if hasattr(value, "item"):
        return _norm(value.item())
    return value


def rows_of(records: Any) -> list[tuple[Any, ...]]:
    """Normalised, sorted tuples from Rows or a pandas frame, for order-free comparison."""
    if isinstance(records, pd.DataFrame):
        records = records.itertuples(index=False, name=None)
    out = [tuple(_norm(v) for v in row) for row in records]
    return sorted(out, key=lambda row: tuple((v is None, str(v)) for v in row))


def assert_same(actual: Any, expected: pd.DataFrame, columns: list[str] | None = None) -> None:
    """The DataFrame's rows equal the pandas result (columns in order, rows in any order)."""
    if columns is not None:
        assert actual.columns == columns
        expected = expected[columns]
    assert rows_of(actual.collect()) == rows_of(expected)
