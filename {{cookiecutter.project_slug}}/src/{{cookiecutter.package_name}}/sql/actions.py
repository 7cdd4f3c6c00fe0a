"""Actions: the only places a DataFrame talks to the database."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import CursorResult, Engine, func, select
from sqlalchemy.exc import CompileError, DBAPIError
from sqlalchemy.sql.base import Executable

from ..errors import SQLLayerError
from ..sqltyping import AnySelect
from ..system import first_line
from .ddl import Explain
from .rows import Row, format_table, iter_rows

if TYPE_CHECKING:
    import pandas

__all__ = ["collect", "compile_sql", "count", "explain", "iter_batches", "render", "to_pandas"]

T = TypeVar("T")


def compile_sql(stmt: AnySelect, engine: Engine, *, literal: bool = True) -> str:
    """The statement as the engine's dialect would run it; literals inlined where possible."""
    if literal:
        try:
            return str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
        except (CompileError, NotImplementedError, TypeError):
            pass  # some values have no literal form; show them as parameters instead
    compiled = stmt.compile(engine)
    params = compiled.params
    return str(compiled) + (f"\n-- parameters: {params!r}" if params else "")


def _run(stmt: Executable, engine: Engine, fetch: Callable[[CursorResult[Any]], T]) -> T:
    try:
        with engine.connect() as conn:
            return fetch(conn.execute(stmt))
    except DBAPIError as exc:
        raise SQLLayerError(f"the database refused the query: {first_line(exc)}") from exc


def collect(stmt: AnySelect, engine: Engine, names: Sequence[str]) -> list[Row]:
    """All rows of ``stmt``."""
    return _run(stmt, engine, lambda result: list(iter_rows(names, iter(result.fetchall()))))


def count(stmt: AnySelect, engine: Engine) -> int:
    """``SELECT COUNT(*)`` over ``stmt``."""
    counted = select(func.count()).select_from(stmt.subquery())
    return int(_run(counted, engine, lambda result: result.scalar()) or 0)


def render(
    stmt: AnySelect, engine: Engine, names: Sequence[str], n: int, truncate: bool | int
) -> str:
    """Spark's ``show`` layout of ``stmt``, which is limited to ``n + 1`` rows by the caller."""
    rows = _run(stmt, engine, lambda result: result.fetchall())
    width = 20 if truncate is True else (0 if truncate is False else int(truncate))
    return format_table(names, rows, n, width)


def to_pandas(stmt: AnySelect, engine: Engine) -> pandas.DataFrame:
    """All rows as a pandas DataFrame (duplicate column names kept)."""
    import pandas as pd  # imported on use: the SQL layer itself does not need pandas

    def build(result: CursorResult[Any]) -> pandas.DataFrame:
        return pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))

    return _run(stmt, engine, build)


def iter_batches(
    stmt: AnySelect, engine: Engine, names: Sequence[str], size: int
) -> Iterator[list[Row]]:
    """Stream rows in lists of at most ``size`` over a server-side cursor where available."""
    if not isinstance(size, int) or size < 1:
        raise SQLLayerError(f"iter_batches(size) takes a positive integer, got {size!r}")
    row_type = Row.make_type(names)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=size).execute(stmt)
        for part in result.partitions(size):
            yield [row_type(values) for values in part]


def explain(stmt: AnySelect, engine: Engine) -> str:
    """The dialect's EXPLAIN output for ``stmt``, printed and returned."""
    prefix = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
    with engine.connect() as conn:
        result = conn.execute(Explain(stmt, prefix))
        lines = [" | ".join("" if v is None else str(v) for v in row) for row in result]
    plan = "\n".join(lines)
    print(plan)
    return plan
