"""A Spark-like DataFrame over SQLAlchemy Core: immutable, lazy, one SQL statement.

Transformations return new DataFrames and never touch the database; actions (``show``,
``collect``, ``count``, ``to_pandas``, ``materialize``...) compile the whole chain into one
statement and run it where the data lives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import Engine
from sqlalchemy import cast as sa_cast
from sqlalchemy import text
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import CTE
from sqlalchemy.types import TypeEngine

from ..errors import SQLLayerError
from ..sqltyping import AnySelect
from . import actions
from .audit import Audit
from .columns import ColumnRef, Expr, HasClauseElement, name_of
from .frame_state import FrameState
from .grouped import GroupedData
from .grouping import AggSpec, aggregate
from .joins import join_frames
from .materialize import materialize as _materialize
from .rows import Row
from .types import resolve_type
from .unions import union_frames

if TYPE_CHECKING:
    import pandas

    from .session import Session

__all__ = ["DataFrame", "GroupedData"]

# A column argument, or a list of them (``select(["a", "b"])``).
Columns = ColumnRef | list[ColumnRef] | tuple[ColumnRef, ...]


def _flatten(items: Sequence[Columns]) -> list[ColumnRef]:
    out: list[ColumnRef] = []
    for item in items:
        out.extend(item if isinstance(item, (list, tuple)) else [item])
    return out


class DataFrame:
    """A query that reads like a table: ``DataFrame(base, engine)``, ``base`` a select or CTE.

    Columns are attributes (``df.amount``) and items (``df["select"]`` for names that clash
    with methods).
    """

    __slots__ = ("_state", "_session")
    _state: FrameState
    _session: Session | None

    def __init__(self, base: object, engine: Engine, *, session: Session | None = None):
        self._bind(FrameState.over(base, engine), session)

    def _bind(self, state: FrameState, session: Session | None) -> None:
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "_session", session)

    def _with(self, state: FrameState) -> DataFrame:
        """A DataFrame over ``state`` in this frame's session."""
        frame = object.__new__(DataFrame)
        frame._bind(state, self._session)
        return frame

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a DataFrame is immutable; transformations return a new DataFrame")

    def __reduce__(self) -> tuple[Callable[..., DataFrame], tuple[AnySelect, str, frozenset[str]]]:
        url = self._state.engine.url.render_as_string(hide_password=False)
        return (_restore, (self._state.query, url, self._state.flags))

    def __copy__(self) -> DataFrame:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> DataFrame:
        return self

    # -- columns -------------------------------------------------------------------------

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return self._state.columns

    @property
    def schema(self) -> dict[str, TypeEngine[Any]]:
        """Column name → SQLAlchemy type."""
        return {name_of(c): c.type for c in self._state.selected}

    @property
    def dtypes(self) -> list[tuple[str, str]]:
        """``(name, type)`` pairs, Spark's spelling."""
        return [(name, str(type_)) for name, type_ in self.schema.items()]

    def __getattr__(self, name: str) -> Expr:
        if name.startswith("_"):  # private and dunder lookups (copy, pickle) never hit columns
            hint = f"; reach the column as df[{name!r}]" if name in self._known_columns() else ""
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}{hint}")
        return self._state.column(name)

    def _known_columns(self) -> list[str]:
        try:
            return self.columns
        except AttributeError:  # not initialised yet (during unpickling)
            return []

    def __getitem__(self, key: object) -> Any:
        if isinstance(key, str):
            return self._state.column(key)
        if isinstance(key, (list, tuple)):
            return self.select(*key)
        if isinstance(key, ColumnElement):
            return self.where(key)
        raise TypeError(
            f"DataFrame indices are column names, lists of names or conditions, not {key!r}"
        )

    def __iter__(self) -> NoReturn:
        raise TypeError("a DataFrame is not iterable; use collect() or iter_batches(size)")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *(c for c in self.columns if c.isidentifier())})

    def __repr__(self) -> str:
        return "DataFrame[" + ", ".join(f"{n}: {t}" for n, t in self.dtypes) + "]"

    # -- transformations -----------------------------------------------------------------

    def select(self, *columns: Columns) -> DataFrame:
        """Keep these columns/expressions: names, ``df.col``, labelled expressions, ``"*"``."""
        items = _flatten(columns)
        if not items:
            raise SQLLayerError("select() needs at least one column; a DataFrame cannot be empty")
        return self._with(self._state.pick(items))

    def where(self, condition: Expr | HasClauseElement | str) -> DataFrame:
        """Keep the rows where ``condition`` holds: ``df.age > 30``, or SQL text ``"age > 30"``.

        SQL text names the frame's columns as they are called (computed ones included)."""
        if isinstance(condition, str):
            return self._with(self._state.filtered_text(text(condition)))
        if not isinstance(condition, ColumnElement) and not hasattr(
            condition, "__clause_element__"
        ):
            raise SQLLayerError(
                f"where() takes a SQL condition such as df.amount > 10 or 'amount > 10', "
                f"got {condition!r}"
            )
        return self._with(self._state.filtered(condition))

    filter = where

    def with_column(self, name: str, expr: object) -> DataFrame:
        """Add (or replace, in place) the column ``name`` computed by ``expr``.

        ``expr`` is an expression, a Python value, or a string naming a column (wrap text
        constants in ``sqlalchemy.literal("...")``).
        """
        return self.with_columns({name: expr})

    def with_columns(
        self, columns: Mapping[str, object] | None = None, **more: object
    ) -> DataFrame:
        """Add or replace several columns, each computed from this frame's columns."""
        return self._with(self._state.with_columns({**(columns or {}), **more}))

    withColumn = with_column

    def with_column_renamed(self, existing: str, new: str) -> DataFrame:
        """Rename one column."""
        return self._with(self._state.renamed(existing, new))

    withColumnRenamed = with_column_renamed

    def drop(self, *columns: Columns) -> DataFrame:
        """Remove these columns (names or ``df.col``)."""
        return self._with(self._state.dropped(_flatten(columns)))

    def cast(
        self, column: ColumnRef, type_: TypeEngine[Any] | type[TypeEngine[Any]] | str
    ) -> DataFrame:
        """Replace a column by its value cast to ``type_`` (a SQLAlchemy type or a name)."""
        base = self._state.prepared("project")
        target = base.resolve(column)
        return self._with(
            base.with_columns({name_of(target): sa_cast(target, resolve_type(type_))})
        )

    def order_by(self, *columns: Columns) -> DataFrame:
        """Sort by these columns (``df.col.desc()`` for descending); replaces any earlier sort."""
        return self._with(self._state.ordered(_flatten(columns)))

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
        return self._with(self._state.limited(n, offset))

    def distinct(self) -> DataFrame:
        """Drop duplicate rows."""
        return self._with(self._state.deduplicated())

    drop_duplicates = distinct

    def alias(self, name: str) -> DataFrame:
        """This frame as a named subquery, e.g. to join a DataFrame with itself."""
        if not isinstance(name, str) or not name:
            raise SQLLayerError(f"alias() takes a non-empty name, got {name!r}")
        return self._with(self._state.wrapped(name))

    def group_by(self, *columns: Columns, agg: AggSpec | None = None) -> GroupedData | DataFrame:
        """Group rows; with ``agg={col_or_name: (func, alias)}`` aggregate them right away.

        Without ``agg`` a :class:`GroupedData` is returned: call ``.agg(...)`` or ``.count()``.
        """
        keys = _flatten(columns)
        if agg is None:
            return GroupedData(self, keys)
        return self._aggregate(keys, agg, ())

    groupBy = group_by

    def agg(self, spec: AggSpec | Expr | None = None, *exprs: Expr) -> DataFrame:
        """Aggregate the whole frame into one row."""
        return self._aggregate((), spec, exprs)

    def _aggregate(
        self, keys: Sequence[ColumnRef], spec: AggSpec | Expr | None, exprs: Sequence[Expr]
    ) -> DataFrame:
        return self._with(aggregate(self._state, keys, spec, exprs))

    def join(
        self,
        other: DataFrame,
        on: ColumnRef | Sequence[str] | None = None,
        how: str = "inner",
        *,
        suffixes: Sequence[str] | None = None,
    ) -> DataFrame:
        """Join ``other`` on a condition, a column name or a list of names.

        ``how``: inner, left, right, full, cross, semi, anti. Equal join keys appear once.
        """
        if not isinstance(other, DataFrame):
            raise SQLLayerError(f"join() takes a DataFrame, got {type(other).__name__}")
        return self._with(join_frames(self._state, other._state, on, how, suffixes))

    def union(self, other: DataFrame, *, strict: bool = False) -> DataFrame:
        """Rows of both frames, matched by column name, duplicates removed (SQL UNION).

        A column only one side has is NULL on the other; ``strict=True`` refuses instead."""
        return self._set_operation(other, distinct=True, strict=strict)

    def union_all(self, other: DataFrame, *, strict: bool = False) -> DataFrame:
        """Rows of both frames, matched by column name, duplicates kept (SQL UNION ALL)."""
        return self._set_operation(other, distinct=False, strict=strict)

    def unionByName(self, other: DataFrame, allowMissingColumns: bool = False) -> DataFrame:
        """Spark's spelling of ``union_all``; differing columns need ``allowMissingColumns``."""
        return self.union_all(other, strict=not allowMissingColumns)

    def _set_operation(self, other: DataFrame, *, distinct: bool, strict: bool) -> DataFrame:
        if not isinstance(other, DataFrame):
            raise SQLLayerError(f"union takes a DataFrame, got {type(other).__name__}")
        return self._with(union_frames(self._state, other._state, distinct=distinct, strict=strict))

    def to_cte(self, name: str | None = None) -> CTE:
        """This frame's query as a SQLAlchemy CTE (pydwt's ``to_cte``), e.g. to ``select`` from
        or to hand to ``session.create_dataframe``."""
        self._state.refuse_ambiguous()
        return self._state.query.cte(name)

    # -- actions -------------------------------------------------------------------------

    def sql(self, *, literal: bool = True) -> str:
        """The compiled SQL for this engine's dialect (parameters inlined when possible)."""
        return actions.compile_sql(self._state.query, self._state.engine, literal=literal)

    def explain(self) -> str:
        """The database's query plan for this frame, printed and returned."""
        return actions.explain(self._state.query, self._state.engine)

    def collect(self) -> list[Row]:
        """Every row, as Rows (``row.col``, ``row["col"]``, ``row[0]``, ``dict(row)``)."""
        return actions.collect(self._state.query, self._state.engine, self.columns)

    def first(self) -> Row | None:
        """The first row, or None when there is none."""
        stmt = self._state.limited(1).query
        rows = actions.collect(stmt, self._state.engine, self.columns)
        return rows[0] if rows else None

    def count(self) -> int:
        """The number of rows."""
        return actions.count(self._state.query, self._state.engine)

    def show(self, n: int = 20, truncate: bool | int = True) -> None:
        """Print the first ``n`` rows as an aligned table, like Spark's ``show``."""
        if not isinstance(n, int) or n < 0:
            raise SQLLayerError(f"show(n) takes a non-negative integer, got {n!r}")
        stmt = self._state.limited(n + 1).query
        print(actions.render(stmt, self._state.engine, self.columns, n, truncate))

    def to_pandas(self) -> pandas.DataFrame:
        """All rows as a pandas DataFrame."""
        return actions.to_pandas(self._state.query, self._state.engine)

    toPandas = to_pandas

    def iter_batches(self, size: int = 10_000) -> Iterator[list[Row]]:
        """Stream the rows in lists of at most ``size``, without loading them all."""
        return actions.iter_batches(self._state.query, self._state.engine, self.columns, size)

    def materialize(
        self,
        name: str,
        as_: str = "table",
        unique_key: str | Sequence[str] | None = None,
        schema: str | None = None,
        indexes: Sequence[str | Sequence[str]] | None = None,
        audit: Audit | None = None,
    ) -> int:
        """Store this frame as a table, view or incremental table; returns rows written.

        With ``audit``, the build is published only if its checks pass (see ``audit.py``)."""
        self._state.refuse_ambiguous()
        if schema is None and self._session is not None:
            schema = self._session.schema
        rows = _materialize(
            self._state.engine,
            self._state.query,
            name,
            as_=as_,
            unique_key=unique_key,
            schema=schema,
            indexes=indexes,
            audit=audit,
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


def _restore(stmt: AnySelect, url: str, flags: frozenset[str]) -> DataFrame:
    """Unpickle a DataFrame: the same select on a new engine for the same URL."""
    from ..db.engine import make_engine

    frame = object.__new__(DataFrame)
    state = FrameState.checked_new(stmt, make_engine(url), flags, tuple(stmt.get_final_froms()))
    frame._bind(state, None)
    return frame
