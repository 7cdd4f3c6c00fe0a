"""The queries behind the Tables page: every table and view, counted, previewed and profiled.

Names come from the database's own catalogue and tables are reflected before they are read, so
a name typed into a URL can never reach the SQL as text. Profiles are one aggregate query per
table; previews are one page of rows.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    RowMapping,
    Table,
    column,
    func,
    inspect,
    literal_column,
    select,
    table,
)
from sqlalchemy.types import JSON, LargeBinary, PickleType, TypeEngine

from ...db.base import Base
from ...db.schema import import_models
from ...errors import DatabaseError
from ...sql.ddl import REJECTED_SUFFIX, is_shadow
from ...sqltyping import AnySelect

__all__ = [
    "EXACT_UP_TO",
    "columns",
    "framework_tables",
    "list_relations",
    "preview",
    "profile",
    "rejected_builds",
    "row_count",
]

# The catalogue counts a relation's rows exactly up to this many, and estimates beyond.
EXACT_UP_TO = 10_000
_UNORDERED_TYPES = (JSON, LargeBinary, PickleType)


def framework_tables() -> frozenset[str]:
    """The tables the framework keeps for itself (its ORM models and Alembic's version); the
    Tables page lists them after the pipeline's outputs."""
    import_models()
    return frozenset(Base.metadata.tables) | {"alembic_version"}


def list_relations(conn: Connection) -> pd.DataFrame:
    """Every table and view with its kind, whether the framework owns it, and its row count:
    exact up to ``EXACT_UP_TO`` rows, the database's estimate above (``estimated``), so that
    listing a ledger of millions of task runs does not count them all."""
    catalogue = inspect(conn)
    rows = [(name, "table") for name in catalogue.get_table_names() if not is_shadow(name)]
    rows += [(name, "view") for name in catalogue.get_view_names() if not is_shadow(name)]
    frame = pd.DataFrame(rows, columns=["name", "kind"])
    frame["system"] = frame["name"].isin(framework_tables())
    counted = [_catalogue_count(conn, name, kind) for name, kind in rows]
    frame["rows"] = [count for count, _ in counted]
    frame["estimated"] = [estimated for _, estimated in counted]
    frame = frame.sort_values(["system", "name"]).reset_index(drop=True)
    return frame


def rejected_builds(conn: Connection) -> pd.DataFrame:
    """Every build its checks refused and the publish kept aside as ``<table>__rejected``:
    the table it was meant to replace, the name it is kept under, its kind and rows, and
    whether a published table of that name exists (not after a refused first build)."""
    catalogue = inspect(conn)
    tables, views = catalogue.get_table_names(), catalogue.get_view_names()
    published = {name for name in (*tables, *views) if not is_shadow(name)}
    found = [(name, "table") for name in tables if name.endswith(REJECTED_SUFFIX)]
    found += [(name, "view") for name in views if name.endswith(REJECTED_SUFFIX)]
    rows = [
        (name.removesuffix(REJECTED_SUFFIX), name, kind, _count(conn, name))
        for name, kind in sorted(found)
    ]
    frame = pd.DataFrame(rows, columns=["table", "kept_as", "kind", "rows"])
    frame["published"] = frame["table"].isin(published)
    return frame


def _reflect(conn: Connection, name: str) -> Table:
    catalogue = inspect(conn)
    known = set(catalogue.get_table_names()) | set(catalogue.get_view_names())
    if name not in known:
        raise DatabaseError(f"there is no table or view named {name!r} in this database")
    return Table(name, MetaData(), autoload_with=conn)


def row_count(conn: Connection, name: str) -> int:
    """``count(*)`` of one table or view."""
    _reflect(conn, name)
    return _count(conn, name)


def _catalogue_count(conn: Connection, name: str, kind: str) -> tuple[int, bool]:
    """Rows, exact when at most ``EXACT_UP_TO`` (a bounded scan), else the catalogue's
    estimate (never below the bound), and whether it is an estimate."""
    rows: AnySelect = select(literal_column("1")).select_from(table(name)).limit(EXACT_UP_TO + 1)
    bounded = int(conn.execute(select(func.count()).select_from(rows.subquery())).scalar_one())
    if bounded <= EXACT_UP_TO:
        return bounded, False
    guess = _estimate(conn, name) if kind == "table" else None
    if guess is None:
        return _count(conn, name), False
    return max(guess, bounded), True


def _estimate(conn: Connection, name: str) -> int | None:
    """The database's own idea of a table's size, read in constant time: SQLite's largest
    rowid, MySQL's ``information_schema`` row estimate, PostgreSQL's ``reltuples``."""
    backend = conn.dialect.name
    query: AnySelect
    if backend == "sqlite":
        query = select(func.max(literal_column("rowid"))).select_from(table(name))
    elif backend in ("mysql", "mariadb"):
        names = ("table_rows", "table_name", "table_schema")
        stats = table("tables", *map(column, names), schema="information_schema")
        query = select(stats.c.table_rows).where(
            stats.c.table_schema == func.database(), stats.c.table_name == name
        )
    else:
        stats = table("pg_class", column("reltuples"), column("oid"))
        query = select(stats.c.reltuples).where(stats.c.oid == func.to_regclass(name))
    value = conn.execute(query).scalar()
    return int(value) if value is not None and value >= 0 else None


def _count(conn: Connection, name: str) -> int:
    """``count(*)`` of a relation whose name came from the catalogue (quoted, never pasted)."""
    return int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())


def columns(conn: Connection, name: str) -> pd.DataFrame:
    """Column name, SQL type, nullability and primary-key flag, in table order."""
    table = _reflect(conn, name)
    rows = [
        (col.name, _type_name(col.type), bool(col.nullable), bool(col.primary_key))
        for col in table.columns
    ]
    return pd.DataFrame(rows, columns=["column", "type", "nullable", "primary_key"])


def preview(conn: Connection, name: str, limit: int, offset: int) -> pd.DataFrame:
    """One page of rows, in primary-key order when there is one (so pages never overlap)."""
    table = _reflect(conn, name)
    query = select(table).limit(limit).offset(offset)
    if table.primary_key.columns:
        query = query.order_by(*table.primary_key.columns)
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def profile(conn: Connection, name: str) -> pd.DataFrame:
    """Per column: nulls, distinct values, min and max, all in one aggregate query."""
    table = _reflect(conn, name)
    measures = [func.count().label("n")]
    for i, col in enumerate(table.columns):
        measures += [
            func.count(col).label(f"c{i}_filled"),
            func.count(col.distinct()).label(f"c{i}_distinct"),
        ]
        if not isinstance(col.type, _UNORDERED_TYPES):
            measures += [func.min(col).label(f"c{i}_min"), func.max(col).label(f"c{i}_max")]
    row = conn.execute(select(*measures).select_from(table)).one()._mapping
    total = int(row["n"])
    return pd.DataFrame(
        [_column_profile(i, col, row, total) for i, col in enumerate(table.columns)]
    )


def _column_profile(i: int, col: Column[object], row: RowMapping, total: int) -> dict[str, object]:
    """One row of the profile, from the ``c{i}_*`` measures of column number ``i``."""
    nulls = total - int(row[f"c{i}_filled"])
    return {
        "column": col.name,
        "type": _type_name(col.type),
        "nulls": nulls,
        "null %": round(100.0 * nulls / total, 1) if total else 0.0,
        "distinct": int(row[f"c{i}_distinct"]),
        "min": _shown(row.get(f"c{i}_min")),
        "max": _shown(row.get(f"c{i}_max")),
    }


def _type_name(sql_type: TypeEngine[object]) -> str:
    try:
        return str(sql_type)
    except Exception:  # some dialect types cannot compile without a dialect
        return type(sql_type).__name__


def _shown(value: object) -> str | None:
    """Min/max as text: one column can hold numbers and dates, and text keeps both readable."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
