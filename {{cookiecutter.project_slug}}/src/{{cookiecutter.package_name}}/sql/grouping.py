"""Aggregation specs: pydwt's ``agg={col_or_name: (func, alias)}`` and labelled expressions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import distinct, func
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import Label

from ..errors import SQLLayerError
from .columns import is_plain, name_of, named

if TYPE_CHECKING:
    from .dataframe import DataFrame

__all__ = ["GroupedData", "aggregate", "aggregations"]

_NAMED = {"mean": "avg", "average": "avg"}


def _function(spec: Any, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """Apply an aggregate given as ``func.sum``, any callable, or a name like ``"sum"``."""
    if isinstance(spec, str):
        name = _NAMED.get(spec.lower(), spec.lower())
        if name == "count_distinct":
            return func.count(distinct(column))
        return getattr(func, name)(column)
    if callable(spec):
        return spec(column)
    raise SQLLayerError(
        f"an aggregate must be a function such as func.sum or a name such as 'sum', got {spec!r}"
    )


def _pairs(value: Any, column_name: str) -> list[tuple[Any, str]]:
    """Normalise one dict value: ``(func, alias)``, a list of those, or a function name."""
    if isinstance(value, str):
        return [(value, f"{value.lower()}_{column_name}")]
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        return list(value)
    raise SQLLayerError(
        f"agg value for {column_name!r} must be (function, 'alias'), a list of those, or a "
        f"function name such as 'sum'; got {value!r}"
    )


def aggregations(frame: DataFrame, spec: Any, extra: Sequence[Any]) -> list[ColumnElement[Any]]:
    """Labelled aggregate expressions over ``frame``'s columns, in the order given."""
    out: list[ColumnElement[Any]] = []
    if isinstance(spec, Mapping):
        for key, value in spec.items():
            column = frame._resolve(key)  # a name is the column, never a string literal
            for function, alias in _pairs(value, key if isinstance(key, str) else name_of(column)):
                out.append(_function(function, column).label(alias))
    elif spec is not None:
        extra = [spec, *extra]
    for expr in extra:
        resolved = frame._resolve(expr)
        if not isinstance(resolved, Label):
            raise SQLLayerError(
                f"the aggregate `{resolved}` has no name; give it one with .label('name')"
            )
        out.append(resolved)
    if not out:
        raise SQLLayerError(
            "an aggregation needs at least one aggregate, e.g. agg={'amount': (func.sum, 'total')}"
        )
    return out


def aggregate(frame: DataFrame, keys: Sequence[Any], spec: Any, exprs: Sequence[Any]) -> DataFrame:
    """``frame`` grouped by ``keys`` (none: one group), with the aggregates asked for."""
    base = frame._prepared("group")
    if not all(is_plain(c) for c in base._selected):
        base = base._wrapped()  # group on plain columns, so GROUP BY never repeats expressions
    group_cols = [named(base._resolve(k)) for k in keys]
    aggs = aggregations(base, spec, exprs)
    grouping = [c.element if isinstance(c, Label) else c for c in group_cols]
    stmt = base._select.with_only_columns(*group_cols, *aggs, maintain_column_froms=False)
    stmt = base._checked(stmt.group_by(*grouping), "group_by()", [*group_cols, *aggs])
    return base._new(stmt, None, {"grouped"})


class GroupedData:
    """``df.group_by(...)`` without ``agg=``: call ``.agg(...)`` or ``.count()`` on it."""

    def __init__(self, frame: DataFrame, keys: Sequence[Any]):
        self._frame = frame
        self._keys = tuple(keys)

    def agg(self, spec: Any = None, *exprs: Any) -> DataFrame:
        """Aggregate each group: a dict spec and/or labelled aggregate expressions."""
        return self._frame._aggregate(self._keys, spec, exprs)

    def count(self) -> DataFrame:
        """Rows per group, in a column named ``count``."""
        return self.agg(None, func.count().label("count"))

    def _simple(self, name: str, columns: Sequence[Any]) -> DataFrame:
        spec = {c: (name, f"{name}_{c if isinstance(c, str) else name_of(c)}") for c in columns}
        return self.agg(spec)

    def sum(self, *columns: Any) -> DataFrame:
        """``sum_<col>`` per group for each column."""
        return self._simple("sum", columns)

    def avg(self, *columns: Any) -> DataFrame:
        """``avg_<col>`` per group for each column."""
        return self._simple("avg", columns)

    def min(self, *columns: Any) -> DataFrame:
        """``min_<col>`` per group for each column."""
        return self._simple("min", columns)

    def max(self, *columns: Any) -> DataFrame:
        """``max_<col>`` per group for each column."""
        return self._simple("max", columns)
