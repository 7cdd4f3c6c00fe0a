"""Joins of two DataFrames.

Joins of every kind, with equal join keys merged and other clashes flagged:

Columns equated by the join condition (``a.key == b.key``, or ``on="key"``) appear once in the
result: the left one for inner/left joins, the right one for right joins, their COALESCE for
full joins. Any other name both sides have stays twice and is ambiguous until one side is
picked, renamed, or ``suffixes`` are given.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, exists, func, literal, null, select, true, union_all
from sqlalchemy.sql import ColumnElement, operators
from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.sql.util import find_tables

from ..errors import SQLLayerError
from ..system import MYSQL_BACKENDS
from .columns import Expr, adapt, foreign_froms, name_of
from .frame_state import FrameState

__all__ = ["JOIN_KINDS", "join_frames"]

JOIN_KINDS = ("inner", "left", "right", "full", "cross", "semi", "anti")
_SYNONYMS = {
    "outer": "full",
    "full_outer": "full",
    "fullouter": "full",
    "left_outer": "left",
    "leftouter": "left",
    "right_outer": "right",
    "rightouter": "right",
    "left_semi": "semi",
    "leftsemi": "semi",
    "left_anti": "anti",
    "leftanti": "anti",
}

# id(column) -> (that column, its stand-in among the joined FROM items), as columns.Lineage
ColumnMap = dict[int, tuple[Expr, Expr]]


def _kind(how: str, on: object, suffixes: Sequence[str] | None) -> str:
    """The join kind ``how`` names, once ``on`` and ``suffixes`` are known to fit it."""
    kind = _SYNONYMS.get(str(how).lower(), str(how).lower())
    if kind not in JOIN_KINDS:
        raise SQLLayerError(f"join(how={how!r}) is not a join kind; use one of {JOIN_KINDS}")
    if suffixes is not None and (len(suffixes) != 2 or suffixes[0] == suffixes[1]):
        raise SQLLayerError(f"suffixes must be two different strings, got {suffixes!r}")
    if (kind == "cross") != (on is None):
        raise SQLLayerError(
            "a cross join takes no `on`" if on is not None else f"a {kind} join needs `on`"
        )
    return kind


def _side(frame: FrameState) -> tuple[FromClause, ColumnMap, ColumnMap]:
    """The FROM item a frame joins as, a map from its columns onto it, and one from ancestors."""
    if frame.is_plain:
        from_ = frame.froms[0]
        direct: ColumnMap = {id(c): (c, c) for c in frame.selected}
    else:
        frame.refuse_ambiguous()
        from_ = frame.query.subquery()
        direct = {id(c): (c, s) for c, s in zip(frame.selected, from_.c)}
    ancestors = {
        key: (old, direct[id(current)][1])
        for key, (old, current) in frame.lineage.items()
        if id(current) in direct and key not in direct
    }
    return from_, direct, ancestors


def _sides(
    left: FrameState, right: FrameState
) -> tuple[tuple[FromClause, ColumnMap], tuple[FromClause, ColumnMap]]:
    """Each side's FROM item, and a map from its columns and its ancestors' columns onto it."""
    (lside, lmap, lold), (rside, rmap, rold) = _side(left), _side(right)
    if lside is rside or set(lmap) & set(rmap):
        raise SQLLayerError(
            "both sides of the join are the same DataFrame (or come from it); give one side "
            "an alias first: other = df.alias('other')"
        )
    # an ancestor column both sides descend from cannot say which side it means
    shared = set(lold) & set(rold)
    lmap.update((k, v) for k, v in lold.items() if k not in shared)
    rmap.update((k, v) for k, v in rold.items() if k not in shared)
    return (lside, lmap), (rside, rmap)


def _condition(
    on: object,
    left: FrameState,
    right: FrameState,
    sides: tuple[FromClause, FromClause],
    maps: tuple[ColumnMap, ColumnMap],
) -> Expr:
    """The ON clause written against the two FROM items."""
    if isinstance(on, str):
        on = [on]
    if isinstance(on, (list, tuple)) and all(isinstance(n, str) for n in on):
        if not on:
            raise SQLLayerError("join(on=[]) needs at least one column name")
        pairs = [(maps[0][id(left.column(n))][1], maps[1][id(right.column(n))][1]) for n in on]
        return and_(*(a == b for a, b in pairs))
    if not isinstance(on, ColumnElement):
        raise SQLLayerError(
            f"join(on=...) takes a condition such as df_a.key == df_b.key, a column name or a "
            f"list of names; got {on!r}"
        )
    shared = set(find_tables(sides[0])) & set(find_tables(sides[1]))
    cond = adapt(on, {**maps[1], **maps[0]}, () if shared else sides)
    if foreign_froms([cond], sides):
        raise SQLLayerError(
            f"the join condition `{on}` uses columns that belong to neither side of the join; "
            f"write it with the two joined DataFrames' columns"
        )
    return cond


def _equal_keys(cond: Expr, left: FromClause, right: FromClause) -> set[str]:
    """Names equated across the two sides in the AND-ed parts of the condition."""
    parts = (
        list(cond.clauses)
        if isinstance(cond, BooleanClauseList) and cond.operator is operators.and_
        else [cond]
    )
    lcols, rcols = {id(c) for c in left.c}, {id(c) for c in right.c}
    keys = set()
    for part in parts:
        if isinstance(part, BinaryExpression) and part.operator is operators.eq:
            a, b = part.left, part.right
            if id(a) in rcols and id(b) in lcols:
                a, b = b, a
            if id(a) in lcols and id(b) in rcols and name_of(a) == name_of(b):
                keys.add(name_of(a))
    return keys


def _outputs(
    left: FromClause, right: FromClause, keys: set[str], how: str, suffixes: Sequence[str] | None
) -> list[tuple[Expr, str]]:
    """The result columns: keys once, then every other column, suffixed when asked."""
    lnames, rnames = {name_of(c) for c in left.c}, {name_of(c) for c in right.c}
    clash = (lnames & rnames) - keys
    out: list[tuple[Expr, str]] = []
    for col in left.c:
        name = name_of(col)
        if name in keys:
            if how == "right":
                col = right.c[name]
            elif how == "full":
                col = func.coalesce(col, right.c[name]).label(name)
            out.append((col, "key"))
        else:
            out.append(
                (col.label(name + suffixes[0]) if suffixes and name in clash else col, "left")
            )
    for col in right.c:
        name = name_of(col)
        if name not in keys:
            out.append(
                (col.label(name + suffixes[1]) if suffixes and name in clash else col, "right")
            )
    return out


def join_frames(
    left: FrameState, right: FrameState, on: object, how: str, suffixes: Sequence[str] | None
) -> FrameState:
    """``left JOIN right ON on``, as the state of a new DataFrame."""
    kind = _kind(how, on, suffixes)
    (lside, lmap), (rside, rmap) = _sides(left, right)
    cond = true() if on is None else _condition(on, left, right, (lside, rside), (lmap, rmap))
    lineage = {**rmap, **lmap}
    if kind in ("semi", "anti"):
        match = exists(select(literal(1)).select_from(rside).where(cond))
        stmt = select(*lside.c).select_from(lside).where(match if kind == "semi" else ~match)
        return left.derive(stmt, lineage, (lside,))
    keys = _equal_keys(cond, lside, rside) if on is not None else set()
    out = _outputs(lside, rside, keys, kind, suffixes)
    if kind == "full" and left.engine.dialect.name in MYSQL_BACKENDS:
        return _emulated_full(left, lside, rside, cond, out)
    if kind == "right":
        joined = rside.join(lside, cond, isouter=True)
    else:
        joined = lside.join(rside, cond, isouter=kind == "left", full=kind == "full")
    return left.derive(select(*(c for c, _ in out)).select_from(joined), lineage, (joined,))


def _emulated_full(
    left: FrameState,
    lside: FromClause,
    rside: FromClause,
    cond: Expr,
    out: list[tuple[Expr, str]],
) -> FrameState:
    """MySQL has no FULL JOIN: left join, plus right rows without a match, UNION ALL."""
    names = [name_of(c) for c, _ in out]
    if len(set(names)) != len(names):
        raise SQLLayerError(
            "a full join on MySQL needs distinct column names; pass suffixes=('_l', '_r') "
            "or rename the clashing columns first"
        )
    first, second = [], []
    for name, (col, origin) in zip(names, out):
        first.append(lside.c[name].label(name) if origin == "key" else col.label(name))
        if origin == "key":
            second.append(rside.c[name].label(name))
        else:
            second.append(null().label(name) if origin == "left" else col.label(name))
    unmatched = ~exists(select(literal(1)).select_from(lside).where(cond))
    both = union_all(
        select(*first).select_from(lside.outerjoin(rside, cond)),
        select(*second).select_from(rside).where(unmatched),
    ).subquery()
    return left.derive(select(*both.c).select_from(both), {}, (both,), plain=True)
