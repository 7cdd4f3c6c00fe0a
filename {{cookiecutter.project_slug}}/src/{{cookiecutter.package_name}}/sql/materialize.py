"""Atomic materializations: tables built under a shadow name and swapped in, views, increments.

A reader never sees a missing or half-built table. MySQL/MariaDB: ``CREATE TABLE <t>__pl_tmp
AS SELECT``, then one ``RENAME TABLE`` statement swapping both names, then the old copy is
dropped. SQLite, PostgreSQL and DuckDB have transactional DDL: the build and the swap happen
in one transaction. Leftover shadow tables of a killed process are dropped at the next build
of the same target, or by :func:`clean_leftovers`.

With an :class:`~.audit.Audit`, the task's checks run against the built shadow before the swap
(write-audit-publish): a refused build is kept as ``<table>__rejected`` and the published
table stays exactly as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, Index, MetaData, Table
from sqlalchemy.exc import SQLAlchemyError

from ..db.locks import check_run_lock
from ..errors import SQLLayerError
from ..faults import crash_point
from ..sqltyping import AnySelect
from .audit import Audit
from .ddl import TMP_SUFFIX, AlterRename, CreateView, DropObject, check_name, index_name
from .dependent_views import views_kept
from .incremental import merge_into
from .shadow import (
    build_into,
    clean_leftovers,
    drop,
    drop_quietly,
    failure,
    kind_of,
    swap_in,
    transactional,
    write_transaction,
)

__all__ = [
    "KINDS",
    "Audit",
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
    select: AnySelect,
    name: str,
    *,
    as_: str = "table",
    unique_key: str | Sequence[str] | None = None,
    schema: str | None = None,
    indexes: Sequence[str | Sequence[str]] | None = None,
    audit: Audit | None = None,
) -> int:
    """Store ``select`` under ``name`` in the form ``as_``; returns rows written (0 for a view).

    With ``audit``, its checks decide whether the build is published (see ``audit.py``).
    """
    if as_ not in KINDS:
        raise SQLLayerError(
            f"materialize(as_={as_!r}) is not a form we know; use one of: {', '.join(KINDS)}"
        )
    check_name(engine, name)
    if as_ == "view":
        return materialize_view(engine, select, name, schema=schema, audit=audit)
    if as_ == "incremental":
        keys = [unique_key] if isinstance(unique_key, str) else list(unique_key or [])
        return materialize_incremental(
            engine, select, name, unique_key=keys, schema=schema, audit=audit
        )
    return materialize_table(engine, select, name, schema=schema, indexes=indexes, audit=audit)


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
    select: AnySelect,
    name: str,
    *,
    schema: str | None = None,
    indexes: Sequence[str | Sequence[str]] | None = None,
    audit: Audit | None = None,
) -> int:
    """Build ``name`` from ``select`` under a shadow name and swap it in atomically."""
    check_name(engine, name)
    clean_leftovers(engine, schema=schema, name=name)
    try:
        if transactional(engine):
            return _table_in_transaction(engine, select, name, schema, indexes, audit)
        return _table_by_rename(engine, select, name, schema, indexes, audit)
    except SQLAlchemyError as exc:
        raise failure(name, "table", exc) from exc


def _table_in_transaction(
    engine: Engine,
    select: AnySelect,
    name: str,
    schema: str | None,
    indexes: Indexes,
    audit: Audit | None,
) -> int:
    shadow = name + TMP_SUFFIX
    with write_transaction(engine) as conn:
        rows = build_into(conn, select, shadow, schema)
        crash_point("materialize.after_build")
        if audit is not None and not audit.passes(conn, name, shadow):
            audit.reject(conn, shadow)
            return rows
        with views_kept(conn, [name], schema):
            drop(conn, name, kind_of(conn, name, schema), schema)
            crash_point("materialize.before_swap")
            check_run_lock(conn)
            conn.execute(AlterRename(shadow, name, schema))
        _index(conn, name, name, indexes, schema)
        if audit is not None:
            audit.published(conn, name)
    crash_point("materialize.after_swap")
    return rows


def _table_by_rename(
    engine: Engine,
    select: AnySelect,
    name: str,
    schema: str | None,
    indexes: Indexes,
    audit: Audit | None,
) -> int:
    shadow = name + TMP_SUFFIX
    try:
        with engine.begin() as conn:
            # waits for a killed client's unfinished build of the same shadow, then drops it
            conn.execute(DropObject(shadow, "table", schema, if_exists=True))
            rows = build_into(conn, select, shadow, schema)
            crash_point("materialize.after_build")
            _index(conn, name, shadow, indexes, schema)
        if audit is not None and not audit.passes(engine, name, shadow):
            with engine.begin() as conn:
                audit.reject(conn, shadow)
            return rows
        crash_point("materialize.before_swap")
        swap_in(engine, [(shadow, name)], schema=schema)
        if audit is not None:
            with engine.begin() as conn:
                audit.published(conn, name)
    except BaseException:
        drop_quietly(engine, shadow, schema)
        raise
    return rows


def materialize_view(
    engine: Engine,
    select: AnySelect,
    name: str,
    *,
    schema: str | None = None,
    audit: Audit | None = None,
) -> int:
    """Replace the view ``name``: atomically on MySQL, drop+create in one transaction elsewhere.

    On MySQL a view replacing a table, or one with checks to pass, is built under the shadow
    name and renamed in.
    """
    check_name(engine, name, what="view")
    clean_leftovers(engine, schema=schema, name=name)
    try:
        if transactional(engine):
            with write_transaction(engine) as conn:
                if audit is not None and not _view_passes(conn, select, name, schema, audit):
                    return 0
                check_run_lock(conn)
                with views_kept(conn, [name], schema):
                    drop(conn, name, kind_of(conn, name, schema), schema)
                    conn.execute(CreateView(name, select, schema))
                if audit is not None:
                    audit.published(conn, name)
            return 0
        _view_by_rename(engine, select, name, schema, audit)
        return 0
    except SQLAlchemyError as exc:
        raise failure(name, "view", exc) from exc


def _view_passes(
    conn: Connection, select: AnySelect, name: str, schema: str | None, audit: Audit
) -> bool:
    """Create the new definition aside and check it (inside the caller's transaction)."""
    if not audit.checks:
        return True
    shadow = name + TMP_SUFFIX
    conn.execute(CreateView(shadow, select, schema))
    if not audit.passes(conn, name, shadow):
        audit.reject_view(conn, shadow, select)
        return False
    drop(conn, shadow, "view", schema)
    return True


def _view_by_rename(
    engine: Engine, select: AnySelect, name: str, schema: str | None, audit: Audit | None
) -> None:
    with engine.begin() as conn:
        replacing_table = kind_of(conn, name, schema) == "table"
        if not replacing_table and not (audit is not None and audit.checks):
            check_run_lock(conn)
            conn.execute(CreateView(name, select, schema, replace=True))
            if audit is not None:
                audit.published(conn, name)
            return
        shadow = name + TMP_SUFFIX
        drop(conn, shadow, kind_of(conn, shadow, schema), schema)
        conn.execute(CreateView(shadow, select, schema))
    try:
        if audit is not None and not audit.passes(engine, name, shadow):
            with engine.begin() as conn:
                audit.reject(conn, shadow)  # RENAME TABLE moves a view too
            return
        # RENAME TABLE moves views too, so the swap stays atomic
        swap_in(engine, [(shadow, name)], schema=schema)
    except BaseException:
        drop_quietly(engine, shadow, schema)
        raise
    if audit is not None:
        with engine.begin() as conn:
            audit.published(conn, name)


def materialize_incremental(
    engine: Engine,
    select: AnySelect,
    name: str,
    *,
    unique_key: Sequence[str] = (),
    schema: str | None = None,
    audit: Audit | None = None,
) -> int:
    """Append the select's rows to ``name``, replacing rows with the same ``unique_key``.

    The first build (no table yet) is a table build.
    """
    check_name(engine, name)
    with engine.connect() as conn:
        kind = kind_of(conn, name, schema)
    if kind is None:
        return materialize_table(engine, select, name, schema=schema, audit=audit)
    if kind == "view":
        raise SQLLayerError(
            f"{name!r} is a view; an incremental model needs a table: drop the view or "
            f"materialize as 'table' once"
        )
    clean_leftovers(engine, schema=schema, name=name)
    return merge_into(engine, select, name, list(unique_key), schema, audit)
