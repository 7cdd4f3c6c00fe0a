"""Building under a shadow name and swapping in: the primitives every materialization shares.

MySQL/MariaDB commit DDL at once, so there a shadow is built, then one ``RENAME TABLE`` swaps
it in. SQLite, PostgreSQL and DuckDB have transactional DDL: build and swap share one
transaction (:func:`write_transaction`); on PostgreSQL the views reading a swapped table are
created again in that transaction (``dependent_views``). Shadows a killed process left are dropped by
:func:`clean_leftovers`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import cast

from sqlalchemy import Connection, Engine, func, insert, inspect
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..db.locks import check_run_lock
from ..errors import MaterializeError
from ..faults import crash_point
from ..sqltyping import AnySelect
from ..system import MYSQL_BACKENDS, first_line
from .ddl import (
    OLD_SUFFIX,
    TMP_SUFFIX,
    AlterRename,
    CreateTableAs,
    DropObject,
    RenameTables,
    table_ref,
    typed_table,
)
from .dependent_views import views_kept

__all__ = [
    "build_into",
    "clean_leftovers",
    "drop",
    "drop_quietly",
    "failure",
    "kind_of",
    "swap_in",
    "transactional",
    "write_transaction",
]


def transactional(engine: Engine) -> bool:
    """Whether the database can build and swap inside one transaction (not MySQL/MariaDB)."""
    return engine.dialect.name not in MYSQL_BACKENDS


def kind_of(conn: Connection, name: str, schema: str | None) -> str | None:
    """'table', 'view' or None, as the database sees ``name`` right now."""
    inspector = inspect(conn)
    if name in inspector.get_view_names(schema=schema):
        return "view"
    return "table" if name in inspector.get_table_names(schema=schema) else None


def drop(conn: Connection, name: str, kind: str | None, schema: str | None) -> None:
    """Drop ``name`` as the ``kind`` it is (nothing when None)."""
    if kind is None:
        return
    conn.execute(DropObject(name, kind, schema))


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that DDL cannot break out of (pysqlite needs an explicit BEGIN)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        # SQLAlchemy types the driver's connection as any DB-API one; on SQLite it is sqlite3's
        dbapi = cast(sqlite3.Connection, conn.connection.dbapi_connection)
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


def failure(name: str, kind: str, exc: SQLAlchemyError) -> MaterializeError:
    """The error a user sees when the database refused a build."""
    return MaterializeError(name, kind, first_line(exc))


def build_into(conn: Connection, select: AnySelect, shadow: str, schema: str | None) -> int:
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


def swap_in(engine: Engine, pairs: Sequence[tuple[str, str]], *, schema: str | None = None) -> None:
    """Publish built shadow tables: each ``(shadow, target)`` pair replaces its target at once.

    MySQL: one ``RENAME TABLE`` moving every target aside and every shadow in; the old copies
    are dropped afterwards. Other dialects: one transaction.
    """
    if transactional(engine):
        with write_transaction(engine) as conn:
            check_run_lock(conn)
            with views_kept(conn, [target for _, target in pairs], schema):
                for shadow, target in pairs:
                    drop(conn, target, kind_of(conn, target, schema), schema)
                    conn.execute(AlterRename(shadow, target, schema))
        return
    with engine.connect() as conn:
        kinds = {target: kind_of(conn, target, schema) for _, target in pairs}
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
            drop(conn, target + OLD_SUFFIX, kinds[target], schema)
        conn.commit()


def drop_quietly(engine: Engine, name: str, schema: str | None) -> None:
    """Drop ``name`` if it exists; a failure is left to the next build of its target."""
    try:
        with engine.begin() as conn:
            drop(conn, name, kind_of(conn, name, schema), schema)
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
            drop(conn, obj, kind, schema)
        dropped.append(obj)
    return dropped
