"""Aggregation specs: pydwt's ``agg={col_or_name: (func, alias)}`` and labelled expressions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import distinct, func
from sqlalchemy.sql.elements import ColumnElement, Label

from ..errors import SQLLayerError
from .columns import ColumnRef, Expr, is_plain, name_of, named
from .frame_state import FrameState

__all__ = ["AggFunction", "AggSpec", "aggregate", "aggregations"]

# An aggregate: ``func.sum``, any callable taking a column, or a name such as ``"sum"``.
AggFunction = str | Callable[[Expr], Expr]
# Per column: a function name, ``(function, alias)``, or a list of such pairs.
AggSpec = Mapping[ColumnRef, str | tuple[AggFunction, str] | list[tuple[AggFunction, str]]]

_NAMED = {"mean": "avg", "average": "avg"}


def _function(spec: object, column: Expr) -> Expr:
    """Apply an aggregate given as ``func.sum``, any callable, or a name like ``"sum"``."""
    if isinstance(spec, str):
        name = _NAMED.get(spec.lower(), spec.lower())
        if name == "count_distinct":
            return func.count(distinct(column))
        named_aggregate: ColumnElement[Any] = getattr(func, name)(column)
        return named_aggregate
    if callable(spec):
        aggregate: ColumnElement[Any] = spec(column)
        return aggregate
    raise SQLLayerError(
        f"an aggregate must be a function such as func.sum or a name such as 'sum', got {spec!r}"
    )


def _pairs(value: object, column_name: str) -> list[tuple[AggFunction, str]]:
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


def aggregations(state: FrameState, spec: object, extra: Sequence[object]) -> list[Expr]:
    """Labelled aggregate expressions over ``state``'s columns, in the order given."""
    out: list[Expr] = []
    if isinstance(spec, Mapping):
        for key, value in spec.items():
            column = state.resolve(key)  # a name is the column, never a string literal
            for function, alias in _pairs(value, key if isinstance(key, str) else name_of(column)):
                out.append(_function(function, column).label(alias))
    elif spec is not None:
        extra = [spec, *extra]
    for expr in extra:
        resolved = state.resolve(expr)
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


def aggregate(
    state: FrameState, keys: Sequence[ColumnRef], spec: object, exprs: Sequence[object]
) -> FrameState:
    """``state`` grouped by ``keys`` (none: one group), with the aggregates asked for."""
    base = state.prepared("group")
    if not all(is_plain(c) for c in base.selected):
        base = base.wrapped()  # group on plain columns, so GROUP BY never repeats expressions
    group_cols = [named(base.resolve(k)) for k in keys]
    aggs = aggregations(base, spec, exprs)
    grouping = [c.element if isinstance(c, Label) else c for c in group_cols]
    stmt = base.query.with_only_columns(*group_cols, *aggs, maintain_column_froms=False)
    stmt = base.checked(stmt.group_by(*grouping), "group_by()", [*group_cols, *aggs])
    return base.step(stmt, {"grouped"})
