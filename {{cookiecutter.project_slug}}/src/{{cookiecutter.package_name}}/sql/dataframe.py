"""A Spark-like DataFrame over SQLAlchemy Core: immutable, lazy, one SQL statement.

Transformations return new DataFrames and never touch the database; actions (``show``,
``collect``, ``count``, ``to_pandas``, ``materialize``...) compile the whole chain into one
statement and run it where the data lives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy import cast as sa_cast
from sqlalchemy import select
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import Label
from sqlalchemy.sql.selectable import CompoundSelect, FromClause
from sqlalchemy.types import TypeEngine

from ..errors import AmbiguousColumnError, ColumnNotFoundError, SQLLayerError
from . import actions
from .columns import Lineage, adapt, foreign_froms, has_window, name_of, named, to_expression
from .grouping import GroupedData, aggregate
from .joins import join_frames, union_frames
from .materialize import materialize as _materialize
from .rows import Row
from .types import resolve_type

if TYPE_CHECKING:
    import pandas

    from .session import Session

__all__ = ["DataFrame"]

# What each kind of step cannot stack on top of without wrapping the query in a subquery.
_WRAP_BEFORE = {
    "project": {"grouped", "distinct", "limited", "opaque"},
    "filter": {"grouped", "distinct", "limited", "opaque", "window"},
    "group": {"grouped", "distinct", "limited", "opaque", "window", "ordered"},
    "order": {"limited", "opaque"},
    "limit": {"limited", "opaque"},
    "distinct": {"limited", "opaque"},
}


def _flatten(items: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(item if isinstance(item, (list, tuple)) else [item])
    return out


class DataFrame:
    """A query that reads like a table: ``DataFrame(base, engine)``, ``base`` a select or CTE.

    Columns are attributes (``df.amount``) and items (``df["select"]`` for names that clash
    with methods).
    """

    __slots__ = ("_select", "_engine", "_session", "_lineage", "_flags", "_froms", "_cols")

    def __init__(self, base: Any, engine: Engine, *, session: Session | None = None):
        if isinstance(base, FromClause):
            stmt, flags, froms = select(*base.c).select_from(base), {"plain"}, (base,)
        elif isinstance(base, (Select, CompoundSelect)):
            stmt, flags, froms = base, {"opaque"}, tuple(base.get_final_froms())
        else:
            raise SQLLayerError(
                f"DataFrame(base, engine) needs a select, CTE, subquery or table as base, "
                f"got {type(base).__name__}"
            )
        self._init(stmt, engine, session, {}, frozenset(flags), froms)

    def _init(
        self,
        stmt: Select,
        engine: Engine,
        session: Session | None,
        lineage: Lineage,
        flags: frozenset[str],
        froms: tuple[FromClause, ...],
        check: bool = True,
    ) -> None:
        if check and not list(stmt.selected_columns):
            raise SQLLayerError("a DataFrame needs at least one column; this one has none")
        values = (stmt, engine, session, lineage, flags, froms, None)
        for slot, value in zip(self.__slots__, values):
            object.__setattr__(self, slot, value)

    def _new(
        self,
        stmt: Select,
        lineage: Lineage | None = None,
        flags: Iterable[str] = frozenset(),
        froms: tuple[FromClause, ...] | None = None,
    ) -> DataFrame:
        frame = object.__new__(DataFrame)
        lineage = self._lineage if lineage is None else lineage
        froms = self._froms if froms is None else froms
        # steps refuse an empty column list themselves; re-checking here costs a column scan
        frame._init(stmt, self._engine, self._session, lineage, frozenset(flags), froms, False)
        return frame

    def _derive(
        self,
        stmt: Select,
        lineage: Mapping[int, Any],
        froms: tuple[FromClause, ...],
        plain: bool = False,
    ) -> DataFrame:
        """A frame over fresh FROM items (joins, unions): new lineage, nothing pending."""
        return self._new(stmt, dict(lineage), {"plain"} if plain else set(), froms)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a DataFrame is immutable; transformations return a new DataFrame")

    def __reduce__(self) -> tuple[Any, ...]:
        url = self._engine.url.render_as_string(hide_password=False)
        return (_restore, (self._select, url, self._flags))

    def __copy__(self) -> DataFrame:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> DataFrame:
        return self

    # -- columns -------------------------------------------------------------------------

    @property
    def _selected(self) -> tuple[ColumnElement[Any], ...]:
        """The selected columns, computed once per frame (SQLAlchemy rebuilds them per call)."""
        if self._cols is None:
            object.__setattr__(self, "_cols", tuple(self._select.selected_columns))
        return self._cols  # type: ignore[return-value]

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return [name_of(c) for c in self._selected]

    @property
    def schema(self) -> dict[str, TypeEngine[Any]]:
        """Column name → SQLAlchemy type."""
        return {name_of(c): c.type for c in self._selected}

    @property
    def dtypes(self) -> list[tuple[str, str]]:
        """``(name, type)`` pairs, Spark's spelling."""
        return [(name, str(type_)) for name, type_ in self.schema.items()]

    def _column(self, name: str) -> ColumnElement[Any]:
        found = [c for c in self._selected if name_of(c) == name]
        if len(found) == 1:
            return found[0]
        if not found:
            raise ColumnNotFoundError(name, self.columns)
        raise AmbiguousColumnError(name)

    def __getattr__(self, name: str) -> ColumnElement[Any]:
        if name.startswith("_"):  # private and dunder lookups (copy, pickle) never hit columns
            hint = f"; reach the column as df[{name!r}]" if name in self._known_columns() else ""
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}{hint}")
        return self._column(name)

    def _known_columns(self) -> list[str]:
        try:
            return self.columns
        except AttributeError:  # not initialised yet (during unpickling)
            return []

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._column(key)
        if isinstance(key, (list, tuple)):
            return self.select(*key)
        if isinstance(key, ColumnElement):
            return self.where(key)
        raise TypeError(
            f"DataFrame indices are column names, lists of names or conditions, not {key!r}"
        )

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("a DataFrame is not iterable; use collect() or iter_batches(size)")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *(c for c in self.columns if c.isidentifier())})

    def __repr__(self) -> str:
        return "DataFrame[" + ", ".join(f"{n}: {t}" for n, t in self.dtypes) + "]"

    # -- building blocks -----------------------------------------------------------------

    def _is_plain(self) -> bool:
        return "plain" in self._flags

    def _refuse_ambiguous(self) -> None:
        seen: set[str] = set()
        for name in self.columns:
            if name in seen:
                raise AmbiguousColumnError(name)
            seen.add(name)

    def _prepared(self, step: str) -> DataFrame:
        """This frame, or it wrapped in a subquery when ``step`` cannot stack on it."""
        return self._wrapped() if self._flags & _WRAP_BEFORE[step] else self

    def _wrapped(self, name: str | None = None) -> DataFrame:
        self._refuse_ambiguous()
        sub = self._select.subquery(name)
        mapping = {id(c): (c, s) for c, s in zip(self._selected, sub.c)}
        lineage = {
            key: (old, mapping[id(current)][1])
            for key, (old, current) in self._lineage.items()
            if id(current) in mapping
        }
        lineage.update(mapping)
        return self._new(select(*sub.c).select_from(sub), lineage, {"plain"}, (sub,))

    def _resolve(self, value: Any) -> ColumnElement[Any]:
        """A column name or expression, pointed at this frame's FROM items."""
        if isinstance(value, str):
            return self._column(value)
        expr = to_expression(value)
        return adapt(expr, self._lineage, self._froms)

    def _checked(self, stmt: Select, what: str, exprs: Sequence[Any]) -> Select:
        """Refuse a step whose expressions reach for columns this frame does not have."""
        strangers = foreign_froms(exprs, self._froms)
        if strangers:
            names = ", ".join(getattr(f, "name", None) or str(f) for f in strangers)
            raise SQLLayerError(
                f"{what} uses columns of {names}, which is not part of this DataFrame (columns: "
                f"{', '.join(self.columns)}); join it first or use this DataFrame's columns"
            )
        return stmt

    def _project(self, columns: Sequence[ColumnElement[Any]], what: str) -> DataFrame:
        if not columns:
            raise SQLLayerError(f"{what} would leave a DataFrame with no columns")
        stmt = self._select.with_only_columns(*columns, maintain_column_froms=False)
        kept = {id(c) for c in self._selected}
        added = [c for c in columns if id(c) not in kept]
        flags = set(self._flags - {"plain"}) | ({"window"} if has_window(added) else set())
        frame = self._new(self._checked(stmt, what, added), None, flags)
        object.__setattr__(frame, "_cols", tuple(columns))
        return frame

    # -- transformations -----------------------------------------------------------------

    def select(self, *columns: Any) -> DataFrame:
        """Keep these columns/expressions: names, ``df.col``, labelled expressions, ``"*"``."""
        items = _flatten(columns)
        if not items:
            raise SQLLayerError("select() needs at least one column; a DataFrame cannot be empty")
        base = self._prepared("project")
        out: list[ColumnElement[Any]] = []
        for item in items:
            if item == "*":
                out.extend(base._selected)
            else:
                out.append(named(base._resolve(item)))
        return base._project(out, "select()")

    def where(self, condition: Any) -> DataFrame:
        """Keep the rows where ``condition`` holds."""
        if not isinstance(condition, ColumnElement) and not hasattr(
            condition, "__clause_element__"
        ):
            raise SQLLayerError(
                f"where() takes a SQL condition such as df.amount > 10, got {condition!r}"
            )
        base = self._prepared("filter")
        resolved = base._resolve(condition)
        stmt = base._checked(base._select.where(resolved), "where()", [resolved])
        return base._new(stmt, None, base._flags - {"plain"})

    filter = where

    def with_column(self, name: str, expr: Any) -> DataFrame:
        """Add (or replace, in place) the column ``name`` computed by ``expr``.

        ``expr`` is an expression, a Python value, or a string naming a column (wrap text
        constants in ``sqlalchemy.literal("...")``).
        """
        return self.with_columns({name: expr})

    def with_columns(self, columns: Mapping[str, Any] | None = None, **more: Any) -> DataFrame:
        """Add or replace several columns, each computed from this frame's columns."""
        wanted = {**(columns or {}), **more}
        base = self._prepared("project")
        new = {name: named(base._resolve(expr), name) for name, expr in wanted.items()}
        out = [new.pop(name_of(c), c) for c in base._selected]
        return base._project([*out, *new.values()], "with_columns()")

    withColumn = with_column

    def with_column_renamed(self, existing: str, new: str) -> DataFrame:
        """Rename one column."""
        base = self._prepared("project")
        target = base._column(existing)
        inner = target.element if isinstance(target, Label) else target
        out = [named(inner, new) if c is target else c for c in base._selected]
        return base._project(out, "with_column_renamed()")

    withColumnRenamed = with_column_renamed

    def drop(self, *columns: Any) -> DataFrame:
        """Remove these columns (names or ``df.col``)."""
        base = self._prepared("project")
        doomed = {id(base._resolve(c)) for c in _flatten(columns)}
        out = [c for c in base._selected if id(c) not in doomed]
        return base._project(out, "drop()")

    def cast(self, column: Any, type_: Any) -> DataFrame:
        """Replace a column by its value cast to ``type_`` (a SQLAlchemy type or a name)."""
        base = self._prepared("project")
        target = base._resolve(column)
        return base.with_column(name_of(target), sa_cast(target, resolve_type(type_)))

    def order_by(self, *columns: Any) -> DataFrame:
        """Sort by these columns (``df.col.desc()`` for descending); replaces any earlier sort."""
        base = self._prepared("order")
        keys = [base._resolve(c) for c in _flatten(columns)]
        stmt = base._select.order_by(None).order_by(*keys)
        stmt = base._checked(stmt, "order_by()", keys)
        return base._new(stmt, None, (base._flags - {"plain"}) | {"ordered"})

    sort = orderBy = order_by

    def limit(self, n: int, offset: int | None = None) -> DataFrame:
        """At most ``n`` rows (after ``offset``)."""
        if (
            not isinstance(n, int)
            or n < 0
            or (offset is not None and (not isinstance(offset, int) or offset < 0))
        ):
            raise SQLLayerError(
                f"limit() takes non-negative integers, got n={n!r}, offset={offset!r}"
            )
        base = self._prepared("limit")
        stmt = base._select.limit(n).offset(offset)
        return base._new(stmt, None, (base._flags - {"plain"}) | {"limited"})

    def distinct(self) -> DataFrame:
        """Drop duplicate rows."""
        base = self._prepared("distinct")
        return base._new(base._select.distinct(), None, (base._flags - {"plain"}) | {"distinct"})

    drop_duplicates = distinct

    def alias(self, name: str) -> DataFrame:
        """This frame as a named subquery, e.g. to join a DataFrame with itself."""
        if not isinstance(name, str) or not name:
            raise SQLLayerError(f"alias() takes a non-empty name, got {name!r}")
        return self._wrapped(name)

    def group_by(self, *columns: Any, agg: Any = None) -> Any:
        """Group rows; with ``agg={col_or_name: (func, alias)}`` aggregate them right away.

        Without ``agg`` a :class:`GroupedData` is returned: call ``.agg(...)`` or ``.count()``.
        """
        keys = _flatten(columns)
        if agg is None:
            return GroupedData(self, keys)
        return self._aggregate(keys, agg, ())

    groupBy = group_by

    def agg(self, spec: Any = None, *exprs: Any) -> DataFrame:
        """Aggregate the whole frame into one row."""
        return self._aggregate((), spec, exprs)

    def _aggregate(self, keys: Sequence[Any], spec: Any, exprs: Sequence[Any]) -> DataFrame:
        return aggregate(self, keys, spec, exprs)

    def join(
        self,
        other: DataFrame,
        on: Any = None,
        how: str = "inner",
        *,
        suffixes: Sequence[str] | None = None,
    ) -> DataFrame:
        """Join ``other`` on a condition, a column name or a list of names.

        ``how``: inner, left, right, full, cross, semi, anti. Equal join keys appear once.
        """
        if not isinstance(other, DataFrame):
            raise SQLLayerError(f"join() takes a DataFrame, got {type(other).__name__}")
        return join_frames(self, other, on, how, suffixes)

    def union(self, other: DataFrame) -> DataFrame:
        """Rows of both frames, matched by column name, duplicates removed (SQL UNION)."""
        return self._set_operation(other, distinct=True)

    def union_all(self, other: DataFrame) -> DataFrame:
        """Rows of both frames, matched by column name, duplicates kept (SQL UNION ALL)."""
        return self._set_operation(other, distinct=False)

    unionByName = union_all

    def _set_operation(self, other: DataFrame, *, distinct: bool) -> DataFrame:
        if not isinstance(other, DataFrame):
            raise SQLLayerError(f"union takes a DataFrame, got {type(other).__name__}")
        return union_frames(self, other, distinct=distinct)

    # -- actions -------------------------------------------------------------------------

    def sql(self, *, literal: bool = True) -> str:
        """The compiled SQL for this engine's dialect (parameters inlined when possible)."""
        return actions.compile_sql(self._select, self._engine, literal=literal)

    def explain(self) -> str:
        """The database's query plan for this frame, printed and returned."""
        return actions.explain(self._select, self._engine)

    def collect(self) -> list[Row]:
        """Every row, as Rows (``row.col``, ``row["col"]``, ``row[0]``, ``dict(row)``)."""
        return actions.collect(self._select, self._engine, self.columns)

    def first(self) -> Row | None:
        """The first row, or None when there is none."""
        rows = actions.collect(self._prepared("limit")._select.limit(1), self._engine, self.columns)
        return rows[0] if rows else None

    def count(self) -> int:
        """The number of rows."""
        return actions.count(self._select, self._engine)

    def show(self, n: int = 20, truncate: bool | int = True) -> None:
        """Print the first ``n`` rows as an aligned table, like Spark's ``show``."""
        if not isinstance(n, int) or n < 0:
            raise SQLLayerError(f"show(n) takes a non-negative integer, got {n!r}")
        stmt = self._prepared("limit")._select.limit(n + 1)
        print(actions.render(stmt, self._engine, self.columns, n, truncate))

    def to_pandas(self) -> pandas.DataFrame:
        """All rows as a pandas DataFrame."""
        return actions.to_pandas(self._select, self._engine)

    toPandas = to_pandas

    def iter_batches(self, size: int = 10_000) -> Iterator[list[Row]]:
        """Stream the rows in lists of at most ``size``, without loading them all."""
        return actions.iter_batches(self._select, self._engine, self.columns, size)

    def materialize(
        self,
        name: str,
        as_: str = "table",
        unique_key: str | Sequence[str] | None = None,
        schema: str | None = None,
        indexes: Sequence[str | Sequence[str]] | None = None,
    ) -> int:
        """Store this frame as a table, view or incremental table; returns rows written."""
        self._refuse_ambiguous()
        if schema is None and self._session is not None:
            schema = self._session.schema
        rows = _materialize(
            self._engine,
            self._select,
            name,
            as_=as_,
            unique_key=unique_key,
            schema=schema,
            indexes=indexes,
        )
        if self._session is not None:
            self._session.refresh(name, schema=schema)
        return rows

    def write(self, name: str, mode: str = "overwrite") -> int:
        """PyDBT's spelling: ``overwrite`` replaces the table, ``append`` adds the rows."""
        modes = {"overwrite": "table", "append": "incremental"}
        if mode not in modes:
            raise SQLLayerError(f"write(mode={mode!r}) must be one of {sorted(modes)}")
        return self.materialize(name, as_=modes[mode])


def _restore(stmt: Any, url: str, flags: frozenset[str]) -> DataFrame:
    frame = object.__new__(DataFrame)
    from ..db.engine import make_engine

    froms = tuple(stmt.get_final_froms())
    frame._init(stmt, make_engine(url), None, {}, flags, froms)
    return frame
