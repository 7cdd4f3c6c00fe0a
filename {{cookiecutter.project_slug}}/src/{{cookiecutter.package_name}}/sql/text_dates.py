"""Dates and times a string can be compared with on PostgreSQL, as on SQLite and MySQL.

``df.day == "2022-12-30"`` is how pipelines filter a date column. SQLAlchemy types the string as
VARCHAR, and its psycopg dialect casts the parameter to it; PostgreSQL has no ``date =
varchar``. Reflected date and time columns get a subclass of their own type that types such a
string as the column's type instead, so PostgreSQL parses it as a date, as it would a literal.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import Table
from sqlalchemy import types as sqltypes

__all__ = ["compare_dates_with_text"]

_TEMPORAL = (sqltypes.Date, sqltypes.DateTime, sqltypes.Time)
_SUBCLASSES: dict[type, type] = {}


class _TextComparable:
    """Mixed in before a temporal type: a string compared with it takes the column's type."""

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        if isinstance(value, str):
            return self
        return super().coerce_compared_value(op, value)  # type: ignore[misc]


def compare_dates_with_text(table: Table) -> Table:
    """Give ``table``'s date, datetime and time columns types that strings compare with."""
    for column in table.c:
        kind = type(column.type)
        if isinstance(column.type, _TEMPORAL) and not issubclass(kind, _TextComparable):
            typed = copy.copy(column.type)
            typed.__class__ = _subclass(kind)
            column.type = typed
    return table


def _subclass(kind: type) -> type:
    """``kind`` with ``_TextComparable`` mixed in, named in this module so that a pickled
    DataFrame (Dask ships them to workers) finds it again."""
    if kind not in _SUBCLASSES:
        name = f"TextComparable_{kind.__module__.replace('.', '_')}_{kind.__name__}"
        subclass = type(name, (_TextComparable, kind), {"__module__": __name__})
        globals()[name] = _SUBCLASSES[kind] = subclass
    return _SUBCLASSES[kind]
