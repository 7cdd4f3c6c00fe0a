"""The input tables of a task test: rows (dicts), a pandas DataFrame or the package's DataFrame,
each written to the test database under the table name the task reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    insert,
    inspect,
)
from sqlalchemy.types import TypeEngine

from ..db.base import Base
from ..db.schema import import_models
from ..errors import SQLLayerError
from ..sql.dataframe import DataFrame

__all__ = ["Rows", "column_type", "given_rows", "write_given"]

Rows = Sequence[Mapping[str, Any]]
_SHORT_TEXT = 255  # longer values make a TEXT column (MySQL needs a length for VARCHAR)


def write_given(engine: Engine, table: str, value: object) -> None:
    """Create ``table`` holding ``value``'s rows (replacing an earlier one); column types follow
    the values."""
    import_models()
    if table in Base.metadata.tables:
        raise SQLLayerError(
            f"given table '{table}' is one of the framework's own tables (the run ledger or "
            f"the ingest's); name the table your task reads"
        )
    if table in inspect(engine).get_table_names():
        Table(table, MetaData()).drop(engine)
    # The two DataFrames keep their own column types; rows get types from their values.
    if isinstance(value, DataFrame):
        value.write(table)
        return
    if _is_pandas(value):
        value.to_sql(table, engine, index=False)  # type: ignore[attr-defined]
        return
    rows = _rows(table, value)
    columns = list(dict.fromkeys(name for row in rows for name in row))
    target = Table(
        table,
        MetaData(),
        *(Column(name, column_type([row.get(name) for row in rows])) for name in columns),
    )
    with engine.begin() as conn:
        target.create(conn)
        if rows:
            conn.execute(
                insert(target), [{name: row.get(name) for name in columns} for row in rows]
            )


def column_type(values: Sequence[object]) -> TypeEngine[Any]:
    """The column type for ``values`` (None ignored; ints mixed with floats make a float)."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return String(_SHORT_TEXT)
    if kinds <= {bool}:
        return Boolean()
    if kinds <= {int, bool}:
        return BigInteger()
    if kinds <= {int, float}:
        return Float()
    if kinds <= {int, Decimal}:
        return Numeric(38, 10)
    if kinds <= {dt.datetime}:
        return DateTime()
    if kinds <= {dt.date}:
        return Date()
    if kinds <= {bytes}:
        return LargeBinary()
    longest = max(len(str(v)) for v in values if v is not None)
    return String(_SHORT_TEXT) if longest <= _SHORT_TEXT else Text()


def given_rows(table: str, value: object) -> list[Mapping[str, Any]]:
    """The rows of any given table as mappings: a list of rows as it is, a pandas DataFrame's
    records, the package's DataFrame collected."""
    if isinstance(value, DataFrame):
        return [row._asdict() for row in value.collect()]
    if _is_pandas(value):
        return value.to_dict("records")  # type: ignore[attr-defined,no-any-return]
    return _rows(table, value)


def _is_pandas(value: object) -> bool:
    """A pandas DataFrame, told without importing pandas (an optional dependency)."""
    return type(value).__module__.split(".")[0] == "pandas" and hasattr(value, "to_sql")


def _rows(table: str, value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise SQLLayerError(
            f"given table '{table}' must be a list of rows (dicts), a pandas DataFrame or a "
            f"DataFrame, got {type(value).__name__}"
        )
    bad = [row for row in value if not isinstance(row, Mapping)]
    if bad:
        raise SQLLayerError(
            f"given table '{table}': every row must be a mapping of column to value, "
            f"got {bad[0]!r}"
        )
    return list(value)
