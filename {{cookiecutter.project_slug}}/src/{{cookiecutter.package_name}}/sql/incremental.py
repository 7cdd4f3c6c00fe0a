"""Incremental materialization: a batch staged aside, then merged into the table (rows with the
same ``unique_key`` replaced), in one transaction.

With an audit, the task's checks see the table as it is with the new batch merged, on the
merging connection, before the commit: a refused batch is rolled back (DML is transactional on
InnoDB too) and kept as ``<table>__rejected``.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, MetaData, Table, exists, insert
from sqlalchemy import select as sa_select
from sqlalchemy import true
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ColumnElement

from ..errors import SQLLayerError
from ..faults import crash_point
from ..sqltyping import AnySelect
from .audit import Audit
from .columns import name_of
from .ddl import TMP_SUFFIX
from .shadow import build_into, drop, drop_quietly, failure, transactional, write_transaction

__all__ = ["merge_into"]

SAVEPOINT = "pl_audit"


def merge_into(
    engine: Engine,
    select: AnySelect,
    name: str,
    keys: list[str],
    schema: str | None,
    audit: Audit | None = None,
) -> int:
    """Merge the select's rows into the existing table ``name``; returns rows inserted."""
    names = [name_of(c) for c in select.selected_columns]
    missing = [k for k in keys if k not in names]
    if missing:
        raise SQLLayerError(
            f"unique_key {missing} is not among the DataFrame's columns: {', '.join(names)}"
        )
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
        if transactional(engine):
            return _merge_in_transaction(engine, select, target, names, keys, audit)
        return _merge_then_commit(engine, select, target, names, keys, audit)
    except SQLAlchemyError as exc:
        raise failure(name, "incremental table", exc) from exc


def _merge_in_transaction(
    engine: Engine,
    select: AnySelect,
    target: Table,
    names: list[str],
    keys: list[str],
    audit: Audit | None,
) -> int:
    """Stage, merge, audit and publish or refuse, all in one write transaction."""
    shadow = target.name + TMP_SUFFIX
    with write_transaction(engine) as conn:
        build_into(conn, select, shadow, target.schema)
        conn.exec_driver_sql(f"SAVEPOINT {SAVEPOINT}")
        rows = _merge_staged(conn, target, shadow, names, keys)
        if audit is not None and not audit.passes(conn, target.name, target.name):
            conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
            audit.reject(conn, shadow)  # the refused batch
            return rows
        conn.exec_driver_sql(f"RELEASE SAVEPOINT {SAVEPOINT}")
        drop(conn, shadow, "table", target.schema)
        if audit is not None:
            audit.published(conn, target.name)
    return rows


def _merge_then_commit(
    engine: Engine,
    select: AnySelect,
    target: Table,
    names: list[str],
    keys: list[str],
    audit: Audit | None,
) -> int:
    """MySQL: the staged batch is DDL (committed at once); the merge is one transaction that
    the audit reads before it is committed or rolled back."""
    shadow = target.name + TMP_SUFFIX
    try:
        with engine.begin() as conn:
            build_into(conn, select, shadow, target.schema)
        with engine.connect() as conn:
            rows = _merge_staged(conn, target, shadow, names, keys)
            if audit is not None and not audit.passes(conn, target.name, target.name):
                conn.rollback()
                audit.reject(conn, shadow)  # the refused batch
                conn.commit()
                return rows
            conn.commit()
        if audit is not None:
            with engine.begin() as conn:
                audit.published(conn, target.name)
    finally:
        drop_quietly(engine, shadow, target.schema)
    return rows


def _merge_staged(
    conn: Connection, target: Table, shadow: str, names: list[str], keys: list[str]
) -> int:
    staged = Table(shadow, MetaData(), schema=target.schema, autoload_with=conn)
    if keys:
        match: ColumnElement[bool] = true()
        for key in keys:
            match = match & (staged.c[key] == target.c[key])
        conn.execute(target.delete().where(exists(sa_select(staged.c[keys[0]]).where(match))))
    crash_point("materialize.incremental_before_insert")
    columns = [staged.c[n] for n in names]
    result = conn.execute(insert(target).from_select(names, sa_select(*columns)))
    return int(result.rowcount) if result.rowcount is not None and result.rowcount >= 0 else 0
