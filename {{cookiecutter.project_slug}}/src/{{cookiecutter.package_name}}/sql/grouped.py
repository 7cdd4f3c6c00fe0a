"""``GroupedData``: what ``df.group_by(...)`` returns before its aggregates are named."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func

from .columns import ColumnRef, Expr, name_of
from .grouping import AggSpec

if TYPE_CHECKING:
    from .dataframe import DataFrame

__all__ = ["GroupedData"]


class GroupedData:
    """``df.group_by(...)`` without ``agg=``: call ``.agg(...)`` or ``.count()`` on it."""

    def __init__(self, frame: DataFrame, keys: Sequence[ColumnRef]):
        self._frame = frame
        self._keys = tuple(keys)

    def agg(self, spec: AggSpec | Expr | None = None, *exprs: Expr) -> DataFrame:
        """Aggregate each group: a dict spec and/or labelled aggregate expressions."""
        return self._frame._aggregate(self._keys, spec, exprs)

    def count(self) -> DataFrame:
        """Rows per group, in a column named ``count``."""
        return self.agg(None, func.count().label("count"))

    def _simple(self, name: str, columns: Sequence[ColumnRef]) -> DataFrame:
        spec = {c: (name, f"{name}_{c if isinstance(c, str) else name_of(c)}") for c in columns}
        return self.agg(spec)

    def sum(self, *columns: ColumnRef) -> DataFrame:
        """``sum_<col>`` per group for each column."""
        return self._simple("sum", columns)

    def avg(self, *columns: ColumnRef) -> DataFrame:
        """``avg_<col>`` per group for each column."""
        return self._simple("avg", columns)

    def min(self, *columns: ColumnRef) -> DataFrame:
        """``min_<col>`` per group for each column."""
        return self._simple("min", columns)

    def max(self, *columns: ColumnRef) -> DataFrame:
        """``max_<col>`` per group for each column."""
        return self._simple("max", columns)
