"""The state behind a DataFrame: its select, engine, column lineage and what the select holds.

A ``DataFrame`` is what users hold; a ``FrameState`` is what its steps, joins and grouping build
on. States never change: each step returns a new one, and a step that cannot stack on the
current select (a filter after a GROUP BY, say) first wraps it in a subquery.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import Label, TextClause
from sqlalchemy.sql.selectable import CompoundSelect, FromClause

from ..errors import AmbiguousColumnError, ColumnNotFoundError, SQLLayerError
from ..sqltyping import AnySelect
from .columns import (
    ColumnRef,
    Expr,
    Lineage,
    adapt,
    foreign_froms,
    has_window,
    name_of,
    named,
    to_expression,
)

__all__ = ["WRAP_BEFORE", "FrameState"]

# What each kind of step cannot stack on top of without wrapping the query in a subquery.
# The flags name what the select already holds: "plain" is a bare SELECT of one FROM item's
# columns, "opaque" a select handed in by the caller.
WRAP_BEFORE = {
    "project": {"grouped", "distinct", "limited", "opaque"},
    "filter": {"grouped", "distinct", "limited", "opaque", "window"},
    "group": {"grouped", "distinct", "limited", "opaque", "window", "ordered"},
    "order": {"limited", "opaque"},
    "limit": {"limited", "opaque"},
    "distinct": {"limited", "opaque"},
}


@dataclass(frozen=True, slots=True, eq=False)
class FrameState:
    """One DataFrame's query: ``query`` selects its columns from ``froms`` on ``engine``.

    ``lineage`` maps columns that earlier frames handed out onto their stand-ins in ``froms``,
    so expressions written against an earlier frame still find their columns.
    """

    query: AnySelect
    engine: Engine
    lineage: Lineage
    flags: frozenset[str]
    froms: tuple[FromClause, ...]
    # the selected columns, once computed (SQLAlchemy rebuilds them on every call)
    known: tuple[Expr, ...] | None = field(default=None, repr=False)

    @classmethod
    def over(cls, base: object, engine: Engine) -> FrameState:
        """The state of a new DataFrame over a table, CTE, subquery or select."""
        stmt: AnySelect
        froms: tuple[FromClause, ...]
        if isinstance(base, CompoundSelect):  # a UNION: its rows, as a subquery
            base = base.subquery()
        if isinstance(base, FromClause):
            stmt, flags, froms = select(*base.c).select_from(base), {"plain"}, (base,)
        elif isinstance(base, Select):
            stmt, flags, froms = base, {"opaque"}, tuple(base.get_final_froms())
        else:
            raise SQLLayerError(
                f"DataFrame(base, engine) needs a select, CTE, subquery or table as base, "
                f"got {type(base).__name__}"
            )
        return cls.checked_new(stmt, engine, frozenset(flags), froms)

    @classmethod
    def checked_new(
        cls, stmt: AnySelect, engine: Engine, flags: frozenset[str], froms: tuple[FromClause, ...]
    ) -> FrameState:
        """A state over ``stmt`` with no lineage, refused when it selects no column."""
        if not list(stmt.selected_columns):
            raise SQLLayerError("a DataFrame needs at least one column; this one has none")
        return cls(stmt, engine, {}, flags, froms)

    def step(
        self,
        stmt: AnySelect,
        flags: Iterable[str] = frozenset(),
        lineage: Lineage | None = None,
        froms: tuple[FromClause, ...] | None = None,
    ) -> FrameState:
        """The state after one more step on this one (same FROM items unless given)."""
        # steps refuse an empty column list themselves; re-checking here costs a column scan
        return FrameState(
            stmt,
            self.engine,
            self.lineage if lineage is None else lineage,
            frozenset(flags),
            self.froms if froms is None else froms,
        )

    def derive(
        self, stmt: AnySelect, lineage: Lineage, froms: tuple[FromClause, ...], plain: bool = False
    ) -> FrameState:
        """A state over fresh FROM items (joins, unions): new lineage, nothing pending."""
        return self.step(stmt, {"plain"} if plain else (), dict(lineage), froms)

    # -- columns -------------------------------------------------------------------------

    @property
    def selected(self) -> tuple[Expr, ...]:
        """The selected columns, computed once per state."""
        known = self.known
        if known is None:
            known = tuple(self.query.selected_columns)
            object.__setattr__(self, "known", known)
        return known

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return [name_of(c) for c in self.selected]

    def column(self, name: str) -> Expr:
        """The one selected column called ``name``."""
        found = [c for c in self.selected if name_of(c) == name]
        if len(found) == 1:
            return found[0]
        if not found:
            raise ColumnNotFoundError(name, self.columns)
        raise AmbiguousColumnError(name)

    @property
    def is_plain(self) -> bool:
        """Whether the select is a bare SELECT of its one FROM item's columns."""
        return "plain" in self.flags

    def refuse_ambiguous(self) -> None:
        """Refuse a frame where two columns share a name (it cannot become a subquery)."""
        seen: set[str] = set()
        for name in self.columns:
            if name in seen:
                raise AmbiguousColumnError(name)
            seen.add(name)

    # -- building blocks -----------------------------------------------------------------

    def prepared(self, step: str) -> FrameState:
        """This state, or it wrapped in a subquery when ``step`` cannot stack on it."""
        return self.wrapped() if self.flags & WRAP_BEFORE[step] else self

    def wrapped(self, name: str | None = None) -> FrameState:
        """This select as a (named) subquery, its columns' lineage carried over."""
        self.refuse_ambiguous()
        sub = self.query.subquery(name)
        mapping = {id(c): (c, s) for c, s in zip(self.selected, sub.c)}
        lineage = {
            key: (old, mapping[id(current)][1])
            for key, (old, current) in self.lineage.items()
            if id(current) in mapping
        }
        lineage.update(mapping)
        return self.step(select(*sub.c).select_from(sub), {"plain"}, lineage, (sub,))

    def resolve(self, value: object) -> Expr:
        """A column name or expression, pointed at this state's FROM items."""
        if isinstance(value, str):
            return self.column(value)
        return adapt(to_expression(value), self.lineage, self.froms)

    def checked(self, stmt: AnySelect, what: str, exprs: Sequence[Expr]) -> AnySelect:
        """Refuse a step whose expressions reach for columns this frame does not have."""
        strangers = foreign_froms(exprs, self.froms)
        if strangers:
            names = ", ".join(getattr(f, "name", None) or str(f) for f in strangers)
            raise SQLLayerError(
                f"{what} uses columns of {names}, which is not part of this DataFrame (columns: "
                f"{', '.join(self.columns)}); join it first or use this DataFrame's columns"
            )
        return stmt

    def project(self, columns: Sequence[Expr], what: str) -> FrameState:
        """Select exactly ``columns`` (kept, new or computed ones) instead of the current ones."""
        if not columns:
            raise SQLLayerError(f"{what} would leave a DataFrame with no columns")
        stmt = self.query.with_only_columns(*columns, maintain_column_froms=False)
        kept = {id(c) for c in self.selected}
        added = [c for c in columns if id(c) not in kept]
        flags = set(self.flags - {"plain"}) | ({"window"} if has_window(added) else set())
        stmt = self.checked(stmt, what, added)
        return FrameState(
            stmt, self.engine, self.lineage, frozenset(flags), self.froms, tuple(columns)
        )

    def pick(self, items: Sequence[ColumnRef]) -> FrameState:
        """``SELECT`` these names or named expressions; ``"*"`` stands for every column."""
        base = self.prepared("project")
        out: list[Expr] = []
        for item in items:
            if isinstance(item, str) and item == "*":
                out.extend(base.selected)
            else:
                out.append(named(base.resolve(item)))
        return base.project(out, "select()")

    # -- steps ---------------------------------------------------------------------------

    def filtered(self, condition: object) -> FrameState:
        """``WHERE condition``."""
        base = self.prepared("filter")
        resolved = base.resolve(condition)
        stmt = base.checked(base.query.where(resolved), "where()", [resolved])
        return base.step(stmt, base.flags - {"plain"})

    def filtered_text(self, condition: TextClause) -> FrameState:
        """``WHERE <SQL text>``. The text names columns as this frame calls them, so a frame
        with computed or renamed columns, or over several FROM items, is wrapped first."""
        base = self.prepared("filter")
        if len(base.froms) != 1 or any(isinstance(c, Label) for c in base.selected):
            base = base.wrapped()
        return base.step(base.query.where(condition), base.flags - {"plain"})

    def with_columns(self, wanted: Mapping[str, object]) -> FrameState:
        """Columns added, or replaced in place, each computed from this state's columns."""
        base = self.prepared("project")
        new = {name: named(base.resolve(expr), name) for name, expr in wanted.items()}
        out = [new.pop(name_of(c), c) for c in base.selected]
        return base.project([*out, *new.values()], "with_columns()")

    def renamed(self, existing: str, new: str) -> FrameState:
        """The column ``existing`` called ``new``."""
        base = self.prepared("project")
        target = base.column(existing)
        inner = target.element if isinstance(target, Label) else target
        out = [named(inner, new) if c is target else c for c in base.selected]
        return base.project(out, "with_column_renamed()")

    def dropped(self, columns: Iterable[ColumnRef]) -> FrameState:
        """Without these columns."""
        base = self.prepared("project")
        doomed = {id(base.resolve(c)) for c in columns}
        out = [c for c in base.selected if id(c) not in doomed]
        return base.project(out, "drop()")

    def ordered(self, columns: Iterable[ColumnRef]) -> FrameState:
        """``ORDER BY`` these columns, instead of any earlier order."""
        base = self.prepared("order")
        keys = [base.resolve(c) for c in columns]
        stmt = base.checked(base.query.order_by(None).order_by(*keys), "order_by()", keys)
        return base.step(stmt, (base.flags - {"plain"}) | {"ordered"})

    def limited(self, n: int, offset: int | None = None) -> FrameState:
        """``LIMIT n OFFSET offset``."""
        base = self.prepared("limit")
        stmt = base.query.limit(n).offset(offset)
        return base.step(stmt, (base.flags - {"plain"}) | {"limited"})

    def deduplicated(self) -> FrameState:
        """``SELECT DISTINCT``."""
        base = self.prepared("distinct")
        return base.step(base.query.distinct(), (base.flags - {"plain"}) | {"distinct"})
