"""Unions of two DataFrames, matched by column name.

A column only one side has is filled with NULL on the other (pydwt's ``union``, Spark's
``unionByName(allowMissingColumns=True)``): the result has the left's columns, then the ones
only the right has. ``strict`` refuses differing columns instead, naming them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import cast, null, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from ..errors import SQLLayerError
from .columns import Expr
from .frame_state import FrameState

__all__ = ["union_frames"]

# ORDER BY / LIMIT inside a UNION member is not portable: such members become subqueries.
_PENDING = frozenset({"ordered", "limited", "opaque"})


def union_frames(
    left: FrameState, right: FrameState, *, distinct: bool, strict: bool = False
) -> FrameState:
    """UNION [ALL] of two frames by column name (the left's order first)."""
    mine, theirs = left.columns, right.columns
    only_left = [name for name in mine if name not in theirs]
    only_right = [name for name in theirs if name not in mine]
    if strict and (only_left or only_right):
        raise SQLLayerError(
            f"union(strict=True) matches columns by name, and these differ: only on the left "
            f"{sorted(only_left)}, only on the right {sorted(only_right)}; without strict=True "
            f"the missing columns are filled with NULL"
        )
    left.refuse_ambiguous()
    right.refuse_ambiguous()
    if only_right:
        left = left.with_columns({name: _null_like(right.column(name)) for name in only_right})
    if only_left:
        right = right.with_columns({name: _null_like(left.column(name)) for name in only_left})
    first = left.wrapped() if left.flags & _PENDING else left
    second = (right.wrapped() if right.flags & _PENDING else right).pick([*mine, *only_right])
    combined = (first.query.union if distinct else first.query.union_all)(second.query)
    sub = combined.subquery()
    return left.derive(select(*sub.c).select_from(sub), {}, (sub,), plain=True)


def _null_like(column: Expr) -> ColumnElement[Any]:
    """NULL typed like ``column``, so that every database can match the union's column types."""
    if isinstance(column.type, NullType):
        return null()
    return cast(null(), column.type)
