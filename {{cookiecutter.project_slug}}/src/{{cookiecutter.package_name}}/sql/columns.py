"""How user expressions find their columns in a DataFrame's current query.

A DataFrame's columns are the ``selected_columns`` of its select. When a transformation has
to wrap the query in a subquery (after a GROUP BY, LIMIT, DISTINCT or a join), expressions
written against the earlier columns are rewritten to point at the subquery's columns: first
by identity (the columns the earlier frame handed out), then by SQLAlchemy's lineage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import literal
from sqlalchemy.sql import ColumnElement, visitors
from sqlalchemy.sql.elements import ColumnClause, Label, Over
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.sql.util import ClauseAdapter, surface_selectables
from sqlalchemy.sql.visitors import ExternallyTraversible

from ..errors import SQLLayerError

__all__ = [
    "ColumnRef",
    "Expr",
    "HasClauseElement",
    "Lineage",
    "adapt",
    "foreign_froms",
    "has_window",
    "is_plain",
    "name_of",
    "named",
    "to_expression",
]

# A SQL column expression of whatever SQL type: a table's column, ``df.amount * 2``, a label.
Expr = ColumnElement[Any]
# How a caller names a column: by its name, or by an expression (``df.amount``).
ColumnRef = str | Expr


@runtime_checkable
class HasClauseElement(Protocol):
    """An object that stands for a SQL expression, such as an ORM model's attribute."""

    def __clause_element__(self) -> Expr: ...


# id(earlier column) -> (that column, kept alive so the id stays unique; its current stand-in)
Lineage = Mapping[int, tuple[Expr, Expr]]


def name_of(column: Expr) -> str:
    """The output name of a selected column."""
    return str(column.key)


def is_plain(column: Expr) -> bool:
    """A bare column of a table or subquery (not a computed, labelled expression)."""
    return isinstance(column, ColumnClause) and not isinstance(column, Label)


def has_window(expressions: Iterable[Expr]) -> bool:
    """Whether any expression contains a window function (``... OVER (...)``)."""
    return any(isinstance(node, Over) for expr in expressions for node in visitors.iterate(expr))


def adapt(expr: Expr, lineage: Lineage, froms: Sequence[FromClause]) -> Expr:
    """Rewrite ``expr`` so that every column it names is one of ``froms``' columns."""
    if not foreign_froms([expr], froms):
        return expr  # already written against these FROM items: nothing to rewrite
    if lineage:

        def replace(element: ExternallyTraversible, **_: object) -> Expr | None:
            hit = lineage.get(id(element))
            return hit[1] if hit is not None and hit[0] is element else None

        expr = visitors.replacement_traverse(expr, {}, replace)
    for from_ in froms:
        expr = ClauseAdapter(from_).traverse(expr)
    return expr


def foreign_froms(expressions: Iterable[Expr], froms: Sequence[FromClause]) -> list[FromClause]:
    """FROM items the expressions reference that are not (inside) ``froms``."""
    # SQLAlchemy leaves surface_selectables unannotated (it yields the FROM items in one)
    inner = (surface_selectables(f) for f in froms)  # type: ignore[no-untyped-call]
    allowed = {id(s) for surfaces in inner for s in surfaces}
    found: list[FromClause] = []
    for expr in expressions:
        for from_ in expr._from_objects:
            if id(from_) not in allowed and all(from_ is not f for f in found):
                found.append(from_)
    return found


def to_expression(value: object) -> Expr:
    """A SQL expression from a column, an expression or a plain Python value."""
    if isinstance(value, ColumnElement):
        return value
    if isinstance(value, HasClauseElement):
        return value.__clause_element__()
    return literal(value)


def named(expr: Expr, name: str | None = None) -> Expr:
    """``expr`` under ``name``; an unnamed computed expression is refused with a hint."""
    if name is not None:
        if not isinstance(name, str) or not name:
            raise SQLLayerError(f"a column name must be a non-empty string, got {name!r}")
        if is_plain(expr) and name_of(expr) == name:
            return expr
        return expr.label(name)
    if isinstance(expr, Label) or is_plain(expr):
        return expr
    raise SQLLayerError(
        f"the expression `{expr}` has no name; give it one with .label('name') "
        f"or use with_column('name', expr)"
    )
