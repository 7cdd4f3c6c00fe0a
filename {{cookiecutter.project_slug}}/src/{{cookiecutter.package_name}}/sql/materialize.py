"""Atomic materializations: tables built under a shadow name and swapped in, views, increments.

A reader never sees a missing or half-built table. MySQL/MariaDB: ``CREATE TABLE <t>__pl_tmp
AS SELECT``, then one ``RENAME TABLE`` statement swapping both names, then the old copy is
dropped. SQLite, PostgreSQL and DuckDB have transactional DDL: the build and the swap happen
in one transaction. Leftover shadow tables of a killed process are dropped at the next build
of the same target, or by :func:`clean_leftovers`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Index, MetaData, Table, exists, func, insert, inspect
from sqlalchemy import select as sa_select
from sqlalchemy import true
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.sql import Select

from ..db.locks import check_run_lock
from ..errors import MaterializeError, SQLLayerError
from ..faults import crash_point
from ..system import MYSQL_BACKENDS, first_line
from .ddl import (
    OLD_SUFFIX,
    TMP_SUFFIX,
    AlterRename,
    CreateTableAs,
    CreateView,
    DropObject,
    RenameTables,
    check_name,
    index_name,
    table_ref,
    typed_table,
)

__all__ = [
    "KINDS",
    "clean_leftovers",
    "materialize",
    "materialize_incremental",
    "materialize_table",
    "materialize_view",
    "swap_in",
]

Indexes = Sequence[str | Sequence[str]] | None
KINDS: tuple[str, ...] = ("table", "view", "incremental")


def materialize(
    engine: Engine,
    select: Select,
    name: str,
    *,
    as_: str = "table",
    unique_key: str | Sequence[str] | None = None,
    schema: str | None = None,
    indexes: Sequence[str | Sequence[str]] | None = None,
) -> int:
    """Store ``select`` under ``name`` in the form ``as_``; returns rows written (0 for a view)."""
    if as_ not in KINDS:
        raise SQLLayerError(
            f"materialize(as_={as_!r}) is not a form we know; use one of: {', '.join(KINDS)}"
        )
    check_name(engine, name)
    if as_ == "view":
        return materialize_view(engine, select, name, schema=schema)
    if as_ == "incremental":
        keys = [unique_key] if isinstance(unique_key, str) else list(unique_key or [])
        return materialize_incremental(engine, select, name, unique_key=keys, schema=schema)
    return materialize_table(engine, select, name, schema=schema, indexes=indexes)


def _transactional(engine: Engine) -> bool:
    return engine.dialect.name not in MYSQL_BACKENDS


def _kind(conn: Connection, name: str, schema: str | None) -> str | None:
    """'table', 'view' or None, as the database sees ``name`` right now."""
    inspector = inspect(conn)
    if name in inspector.get_view_names(schema=schema):
        return "view"
    return "table" if name in inspector.get_table_names(schema=schema) else None


def _drop(conn: Connection, name: str, kind: str | None, schema: str | None) -> None:
    if kind is None:
        return
    conn.execute(DropObject(name, kind, schema))


@contextmanager
def _write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that DDL cannot break out of (pysqlite needs an explicit BEGIN)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        previous = dbapi.isolation_level
        dbapi.isolation_level = None  # the driver would otherwise commit before each DDL
        try:
            # legacy mode: a rename must not rewrite views that name the table
            conn.exec_driver_sql("PRAGMA legacy_alter_table=ON")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if not conn.invalidated and dbapi.in_transaction:
                    dbapi.execute("ROLLBACK")
                raise
            dbapi.execute("COMMIT")
        finally:
            if not conn.invalidated:  # an invalidated connection is closed and never reused
                conn.exec_driver_sql("PRAGMA legacy_alter_table=OFF")
                dbapi.isolation_level = previous


def _fail(name: str, kind: str, exc: SQLAlchemyError) -> MaterializeError:
    return MaterializeError(name, kind, first_line(exc))


def _build(conn: Connection, select: Select, shadow: str, schema: str | None) -> int:
    """Fill ``shadow`` with the select's rows inside the database; returns the row count."""
    if conn.dialect.name == "sqlite":
        # SQLite's CREATE TABLE AS loses declared types (dates would read back as numbers)
        table = typed_table(shadow, select, schema)
        table.create(conn)
        result = conn.execute(insert(table).from_select(list(table.c.keys()), select))
    else:
        result = conn.execute(CreateTableAs(shadow, select, schema))
    if result.rowcount is not None and result.rowcount >= 0:
        return int(result.rowcount)
    counted = sa_select(func.count()).select_from(table_ref(shadow, schema))
    return int(conn.scalar(counted) or 0)


def _index(conn: Connection, target: str, on: str, indexes: Indexes, schema: str | None) -> None:
    """Create the requested indexes on ``on`` (named after the final ``target``)."""
    if not indexes:
        return
    reflected = Table(on, MetaData(), schema=schema, autoload_with=conn)
    for spec in indexes:
        cols = [spec] if isinstance(spec, str) else list(spec)
        missing = [c for c in cols if c not in reflected.c]
        if missing:
            raise SQLLayerError(
                f"cannot index {target!r} on {missing}: no such column; "
                f"its columns are: {', '.join(reflected.c.keys())}"
            )
        ix_name = index_name(conn.engine, target, cols)
        Index(ix_name, *(reflected.c[c] for c in cols)).create(conn)


def materialize_table(
    engine: Engine,
    select: Select,
    name: str,
    *,
    schema: str | None = None,
    indexes: Sequence[str | Sequence[str]] | None = None,
) -> int:
    """Build ``name`` from ``select`` under a shadow name and swap it in atomically."""
    check_name(engine, name)
    clean_leftovers(engine, schema=schema, name=name)
    try:
        if _transactional(engine):
            return _table_in_transaction(engine, select, name, schema, indexes)
        return _table_by_rename(engine, select, name, schema, indexes)
    except SQLAlchemyError as exc:
        raise _fail(name, "table", exc) from exc


def _table_in_transaction(
    engine: Engine, select: Select, name: str, schema: str | None, indexes: Indexes
) -> int:
    shadow = name + TMP_SUFFIX
    with _write_transaction(engine) as conn:
        rows = _build(conn, select, shadow, schema)
        crash_point("materialize.after_build")
        _drop(conn, name, _kind(conn, name, schema), schema)
        crash_point("materialize.before_swap")
        check_run_lock(conn)
        conn.execute(AlterRename(shadow, name, schema))
        _index(conn, name, name, indexes, schema)
    crash_point("materialize.after_swap")
    return rows


def _table_by_rename(
    engine: Engine, select: Select, name: str, schema: str | None, indexes: Indexes
) -> int:
    shadow = name + TMP_SUFFIX
    try:
        with engine.begin() as conn:
            # waits for a killed client's unfinished build of the same shadow, then drops it
            conn.execute(DropObject(shadow, "table", schema, if_exists=True))
            rows = _build(conn, select, shadow, schema)
            crash_point("materialize.after_build")
            _index(conn, name, shadow, indexes, schema)
        crash_point("materialize.before_swap")
        swap_in(engine, [(shadow, name)], schema=schema)
    except BaseException:
        _drop_quietly(engine, shadow, schema)
        raise
    return rows


def swap_in(engine: Engine, pairs: Sequence[tuple[str, str]], *, schema: str | None = None):
    """Publish built shadow tables: each ``(shadow, target)`` pair replaces its target at once.

    MySQL: one ``RENAME TABLE`` moving every target aside and every shadow in; the old copies
    are dropped afterwards. Other dialects: one transaction.
    """
    if _transactional(engine):
        with _write_transaction(engine) as conn:
            check_run_lock(conn)
            for shadow, target in pairs:
                _drop(conn, target, _kind(conn, target, schema), schema)
                conn.execute(AlterRename(shadow, target, schema))
        return
    with engine.connect() as conn:
        kinds = {target: _kind(conn, target, schema) for _, target in pairs}
        moves: list[tuple[str, str]] = []
        for shadow, target in pairs:
            if kinds[target] is not None:
                moves.append((target, target + OLD_SUFFIX))
            moves.append((shadow, target))
        check_run_lock(conn)
        # one RENAME TABLE statement: MySQL applies it atomically, so readers never see the
        # table missing
        conn.execute(RenameTables(moves, schema))
        conn.commit()
        crash_point("materialize.after_swap")
        for _, target in pairs:
            _drop(conn, target + OLD_SUFFIX, kinds[target], schema)
        conn.commit()


def _drop_quietly(engine: Engine, name: str, schema: str | None) -> None:
    try:
        with engine.begin() as conn:
            _drop(conn, name, _kind(conn, name, schema), schema)
    except DBAPIError:
        pass  # the next build of this target drops it


def clean_leftovers(
    engine: Engine, *, schema: str | None = None, name: str | None = None
) -> list[str]:
    """Drop shadow tables a killed build left behind (all of them, or those of ``name``)."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        found = [
            (obj, "view" if obj in inspector.get_view_names(schema=schema) else "table")
            for obj in [
                *inspector.get_table_names(schema=schema),
                *inspector.get_view_names(schema=schema),
            ]
            if obj.endswith((TMP_SUFFIX, OLD_SUFFIX))
            and (name is None or obj in (name + TMP_SUFFIX, name + OLD_SUFFIX))
        ]
    dropped = []
    for obj, kind in dict(found).items():
        with engine.begin() as conn:
            _drop(conn, obj, kind, schema)
        dropped.append(obj)
    return dropped


def materialize_view(
    engine: Engine, select: Select, name: str, *, schema: str | None = None
) -> int:
    """Replace the view ``name``: atomically on MySQL, drop+create in one transaction elsewhere.

    On MySQL a view replacing a table is built under the shadow name and renamed in.
    """
    check_name(engine, name, what="view")
    clean_leftovers(engine, schema=schema, name=name)
    try:
        if _transactional(engine):
            with _write_transaction(engine) as conn:
                check_run_lock(conn)
                _drop(conn, name, _kind(conn, name, schema), schema)
                conn.execute(CreateView(name, select, schema))
            return 0
        with engine.begin() as conn:
            replacing_table = _kind(conn, name, schema) == "table"
            if not replacing_table:
                check_run_lock(conn)
                conn.execute(CreateView(name, select, schema, replace=True))
                return 0
            shadow = name + TMP_SUFFIX
            _drop(conn, shadow, _kind(conn, shadow, schema), schema)
            conn.execute(CreateView(shadow, select, schema))
        # a table becomes a view: RENAME TABLE moves views too, so the swap stays atomic
        swap_in(engine, [(shadow, name)], schema=schema)
        return 0
    except SQLAlchemyError as exc:
        raise _fail(name, "view", exc) from exc


def materialize_incremental(
    engine: Engine,
    select: Select,
    name: str,
    *,
    unique_key: Sequence[str] = (),
    schema: str | None = None,
) -> int:
    """Append the select's rows to ``name``, replacing rows with the same ``unique_key``."""
    check_name(engine, name)
    with engine.connect() as conn:
        kind = _kind(conn, name, schema)
    if kind is None:
        return materialize_table(engine, select, name, schema=schema)
    if kind == "view":
        raise SQLLayerError(
            f"{name!r} is a view; an incremental model needs a table: drop the view or "
            f"materialize as 'table' once"
        )
    names = [c.key for c in select.selected_columns]
    missing = [k for k in unique_key if k not in names]
    if missing:
        raise SQLLayerError(
            f"unique_key {missing} is not among the DataFrame's columns: {', '.join(names)}"
        )
    clean_leftovers(engine, schema=schema, name=name)
    try:
        return _merge(engine, select, name, names, list(unique_key), schema)
    except SQLAlchemyError as exc:
        raise _fail(name, "incremental table", exc) from exc


def _merge(
    engine: Engine,
    select: Select,
    name: str,
    names: list[str],
    keys: list[str],
    schema: str | None,
) -> int:
    """Stage the new rows, then delete matching keys and insert, in one transaction."""
    shadow = name + TMP_SUFFIX
    with engine.connect() as conn:
        target = Table(name, MetaData(), schema=schema, autoload_with=conn)
    unknown = [n for n in names if n not in target.c]
    if unknown:
        raise SQLLayerError(
            f"{name!r} has no column(s) {unknown}; an incremental model can only add rows of "
            f"the same shape; its columns are: {', '.join(target.c.keys())} (materialize as "
            f"'table' once to change the shape)"
        )
    try:
        if _transactional(engine):
            with _write_transaction(engine) as conn:
                _build(conn, select, shadow, schema)
                rows = _merge_staged(conn, target, shadow, names, keys, schema)
                _drop(conn, shadow, "table", schema)
            return rows
        with engine.begin() as conn:
            _build(conn, select, shadow, schema)
        with engine.begin() as conn:
            rows = _merge_staged(conn, target, shadow, names, keys, schema)
    finally:
        if not _transactional(engine):
            _drop_quietly(engine, shadow, schema)
    return rows


def _merge_staged(
    conn: Connection,
    target: Table,
    shadow: str,
    names: list[str],
    keys: list[str],
    schema: str | None,
) -> int:
    staged = Table(shadow, MetaData(), schema=schema, autoload_with=conn)
    if keys:
        match = true()
        for key in keys:
            match = match & (staged.c[key] == target.c[key])
        conn.execute(target.delete().where(exists(sa_select(staged.c[keys[0]]).where(match))))
    crash_point("materialize.incremental_before_insert")
    columns = [staged.c[n] for n in names]
    result = conn.execute(insert(target).from_select(names, sa_select(*columns)))
    return int(result.rowcount) if result.rowcount is not None and result.rowcount >= 0 else 0
