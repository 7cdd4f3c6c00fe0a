"""The schema a ``Session`` names: an attached database on SQLite, a database on MySQL, a schema
on PostgreSQL. A schema that does not exist is one error naming it and how to create it.

On SQLite, ``schema="sales"`` is the file ``sales.db`` beside the main database file, attached
under that name to every connection of the engine (when it is checked out of the pool). The file
must exist: attaching would otherwise create an empty one silently.
"""

from __future__ import annotations

import re
import threading
import weakref
from pathlib import Path

from sqlalchemy import Engine, event, inspect

from ..errors import DatabaseSetupError
from ..system import MYSQL_BACKENDS
from .diagnosis import shown_url

__all__ = ["missing_schema", "prepare_schema", "schema_exists", "sqlite_schema_path"]

# SQLite's own databases of every connection
SQLITE_BUILT_IN = frozenset({"main", "temp"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_attached: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def sqlite_schema_path(engine: Engine, schema: str) -> Path:
    """The file holding ``schema`` on a SQLite engine: ``<schema>.db`` beside the main file."""
    database = engine.url.database
    if database in (None, "", ":memory:"):
        raise missing_schema(engine, schema, "an in-memory SQLite database has no folder")
    return Path(database).parent / f"{schema}.db"


def prepare_schema(engine: Engine, schema: str | None) -> None:
    """Make ``schema`` usable on ``engine``: attach its file on SQLite (once per engine)."""
    if not schema or engine.dialect.name != "sqlite" or schema in SQLITE_BUILT_IN:
        return
    if not _NAME.fullmatch(schema):
        raise missing_schema(engine, schema, "a SQLite schema is a plain name (letters, digits, _)")
    path = sqlite_schema_path(engine, schema)
    if not path.is_file():
        raise missing_schema(engine, schema, f"there is no file {path}")
    with _lock:
        names = _attached.get(engine)
        if names is None:
            names = _attached[engine] = set()
            event.listen(engine, "checkout", _attach_on_checkout(engine))
        names.add(schema)


def _attach_on_checkout(engine: Engine):  # type: ignore[no-untyped-def]
    """A pool listener attaching the engine's schemas a connection does not have yet."""
    ref = weakref.ref(engine)

    def attach(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        owner = ref()
        if owner is None:  # the engine is gone: nothing to attach for it
            return
        done = record.info.setdefault("attached_schemas", set())
        for schema in sorted(_attached.get(owner, set()) - done):
            path = sqlite_schema_path(owner, schema)
            dbapi_connection.execute(f'ATTACH DATABASE ? AS "{schema}"', (str(path),))
            done.add(schema)

    return attach


def missing_schema(engine: Engine, schema: str, reason: str | None = None) -> DatabaseSetupError:
    """The error for a schema the database does not have, with the way to create it."""
    backend = engine.dialect.name
    url = shown_url(engine.url)
    if backend == "sqlite":
        reason = reason or "it is not attached"
        fix = (
            f"on SQLite a schema is a database file beside the main one, attached under its "
            f"name; create {schema}.db there (any SQLite database file) or leave schema= out"
        )
    elif backend in MYSQL_BACKENDS:
        reason = reason or f"the server has no database {schema!r}"
        fix = (
            f"on MySQL a schema is a database; create it (CREATE DATABASE `{schema}`), grant the "
            f"project's user access to it, or leave schema= out"
        )
    else:
        reason = reason or f"the database has no schema {schema!r}"
        fix = f'create it (CREATE SCHEMA "{schema}") or leave schema= out'
    return DatabaseSetupError(
        "missing schema", url, f"schema {schema!r} not found ({url}): {reason}; {fix}"
    )


def schema_exists(engine: Engine, schema: str) -> bool:
    """Whether the database has ``schema`` (a database on MySQL, attached on SQLite)."""
    return schema in inspect(engine).get_schema_names()
