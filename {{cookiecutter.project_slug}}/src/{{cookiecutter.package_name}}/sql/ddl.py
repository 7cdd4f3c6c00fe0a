"""DDL constructs SQLAlchemy lacks (CREATE TABLE AS, CREATE VIEW, RENAME) and name rules.

Every identifier is rendered by the dialect's preparer, so names with spaces, quotes or
reserved words are quoted rather than spliced into SQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import Column, Engine, MetaData, Table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import NullType, UserDefinedType

from ..errors import SQLLayerError
from ..sqltyping import AnySelect
from ..system import MYSQL_BACKENDS

__all__ = [
    "OLD_SUFFIX",
    "REJECTED_SUFFIX",
    "SHADOW_SUFFIXES",
    "STAGE_SUFFIX",
    "TMP_SUFFIX",
    "AlterRename",
    "CreateTableAs",
    "CreateView",
    "DropObject",
    "Explain",
    "RenameTables",
    "check_name",
    "index_name",
    "is_shadow",
    "table_ref",
    "typed_table",
]

# Shadow names carry these suffixes, so leftovers of a killed process are recognisable.
TMP_SUFFIX = "__pl_tmp"
OLD_SUFFIX = "__pl_old"
STAGE_SUFFIX = "__pl_stage"  # a staged table until its stage is published
REJECTED_SUFFIX = "__rejected"  # a build its checks refused, kept for inspection
SHADOW_SUFFIXES = (TMP_SUFFIX, OLD_SUFFIX, STAGE_SUFFIX, REJECTED_SUFFIX)


def is_shadow(name: str) -> bool:
    """True for the framework's in-progress copies, which readers should not be shown."""
    return name.endswith(SHADOW_SUFFIXES)


def table_ref(name: str, schema: str | None = None) -> Table:
    """A column-less Table object: enough for the preparer to quote ``schema.name``."""
    return Table(name, MetaData(), schema=schema)


def max_identifier(engine: Engine) -> int:
    """The dialect's identifier limit (MySQL's 64 even before the first connection)."""
    if engine.dialect.name in MYSQL_BACKENDS:
        return 64
    return int(engine.dialect.max_identifier_length or 9999)


def check_name(engine: Engine, name: object, *, what: str = "table") -> str:
    """Refuse empty names and names that would not fit once the shadow suffix is added."""
    if not isinstance(name, str) or not name.strip():
        raise SQLLayerError(f"a {what} name must be a non-empty string, got {name!r}")
    limit = max_identifier(engine)
    room = limit - len(TMP_SUFFIX)
    if len(name) > room:
        raise SQLLayerError(
            f"{what} name {name!r} is {len(name)} characters; {engine.dialect.name} allows "
            f"{limit} and the build needs {len(TMP_SUFFIX)} more for its shadow copy, so use "
            f"a name of at most {room} characters"
        )
    return name


def index_name(engine: Engine, table: str, columns: Sequence[str]) -> str:
    """``ix_<table>_<cols>``, hashed down when it would exceed the dialect's limit."""
    name = f"ix_{table}_{'_'.join(columns)}"
    if len(name) <= max_identifier(engine):
        return name
    return "ix_" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:20]


class _Untyped(UserDefinedType[object]):
    """A column without a declared type (SQLite then stores each value as it comes)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return ""


def typed_table(name: str, select: AnySelect, schema: str | None = None) -> Table:
    """An empty Table shaped like the select's columns, keeping their SQLAlchemy types."""
    columns = []
    for col in select.selected_columns:
        type_ = _Untyped() if isinstance(col.type, NullType) else col.type
        columns.append(Column(col.key, type_))
    return Table(name, MetaData(), *columns, schema=schema)


class CreateTableAs(Executable, ClauseElement):
    """``CREATE TABLE <name> AS <select>``: the database builds the table in one statement."""

    inherit_cache = False

    def __init__(self, name: str, select: AnySelect, schema: str | None = None):
        self.table = table_ref(name, schema)
        self.select = select


class CreateView(Executable, ClauseElement):
    """``CREATE [OR REPLACE] VIEW <name> AS <select>``, parameters inlined as literals."""

    inherit_cache = False

    def __init__(
        self, name: str, select: AnySelect, schema: str | None = None, replace: bool = False
    ):
        self.table = table_ref(name, schema)
        self.select = select
        self.replace = replace


class RenameTables(Executable, ClauseElement):
    """MySQL's ``RENAME TABLE a TO b, c TO d``: one statement, applied atomically."""

    inherit_cache = False

    def __init__(self, pairs: Sequence[tuple[str, str]], schema: str | None = None):
        self.pairs = [(table_ref(a, schema), table_ref(b, schema)) for a, b in pairs]


class DropObject(Executable, ClauseElement):
    """``DROP TABLE|VIEW [IF EXISTS] <name>``."""

    inherit_cache = False

    def __init__(self, name: str, kind: str, schema: str | None = None, if_exists: bool = False):
        self.table = table_ref(name, schema)
        self.kind = "VIEW" if kind == "view" else "TABLE"
        self.if_exists = if_exists


class AlterRename(Executable, ClauseElement):
    """``ALTER TABLE <old> RENAME TO <new>`` (the new name is never schema-qualified)."""

    inherit_cache = False

    def __init__(self, old: str, new: str, schema: str | None = None):
        self.table = table_ref(old, schema)
        self.new = new


class Explain(Executable, ClauseElement):
    """The dialect's EXPLAIN of a select, with the select's parameters bound as usual."""

    inherit_cache = False

    def __init__(self, select: AnySelect, prefix: str):
        self.select = select
        self.prefix = prefix


@compiles(DropObject)
def _drop_object(element: DropObject, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    guard = " IF EXISTS" if element.if_exists else ""
    return f"DROP {element.kind}{guard} {compiler.preparer.format_table(element.table)}"


@compiles(AlterRename)
def _alter_rename(element: AlterRename, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    old = compiler.preparer.format_table(element.table)
    return f"ALTER TABLE {old} RENAME TO {compiler.preparer.quote(element.new)}"


@compiles(Explain)
def _explain(element: Explain, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    return f"{element.prefix} {compiler.process(element.select, **kw)}"


@compiles(CreateTableAs)
def _create_table_as(element: CreateTableAs, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    target = compiler.preparer.format_table(element.table)
    return f"CREATE TABLE {target} AS {compiler.process(element.select, **kw)}"


@compiles(CreateView)
def _create_view(element: CreateView, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    target = compiler.preparer.format_table(element.table)
    body = compiler.process(element.select, literal_binds=True, **kw)
    verb = "CREATE OR REPLACE VIEW" if element.replace else "CREATE VIEW"
    return f"{verb} {target} AS {body}"


@compiles(RenameTables)
def _rename_tables(element: RenameTables, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    fmt = compiler.preparer.format_table
    return "RENAME TABLE " + ", ".join(f"{fmt(a)} TO {fmt(b)}" for a, b in element.pairs)
