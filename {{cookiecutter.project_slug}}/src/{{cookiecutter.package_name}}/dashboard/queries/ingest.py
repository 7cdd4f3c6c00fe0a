"""The queries behind the Ingest page: data objects with their stage statuses, and rejected rows.

A database migrated before the ingest ledger existed has none of its tables, so the page asks
``ingest_ready`` first.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, func, inspect, select

from ...ingest.tables import OBJECTS, REJECTS
from ...sqltyping import AnySelect

__all__ = [
    "OBJECTS_TABLE",
    "REJECTS_TABLE",
    "count_rejects",
    "ingest_missing",
    "object_summary",
    "objects_page",
    "rejects_by_reason",
    "rejects_page",
]

OBJECTS_TABLE = OBJECTS.name
REJECTS_TABLE = REJECTS.name


def ingest_missing(conn: Connection) -> list[str]:
    """The ingest-ledger tables this database lacks."""
    present = set(inspect(conn).get_table_names())
    return [name for name in (OBJECTS_TABLE, REJECTS_TABLE) if name not in present]


def _frame(conn: Connection, query: AnySelect) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def object_summary(conn: Connection) -> dict[str, int]:
    """Objects processed, rows read/loaded/rejected and failed objects, summed in SQL."""
    measures = [
        func.count().label("objects"),
        func.coalesce(func.sum(OBJECTS.c.rows_read), 0).label("rows_read"),
        func.coalesce(func.sum(OBJECTS.c.rows_loaded), 0).label("rows_loaded"),
        func.coalesce(func.sum(OBJECTS.c.rows_rejected), 0).label("rows_rejected"),
        func.count(OBJECTS.c.error).label("with_error"),
    ]
    row = conn.execute(select(*measures)).one()._mapping
    return {key: int(value or 0) for key, value in row.items()}


def objects_page(conn: Connection, limit: int, offset: int) -> pd.DataFrame:
    """One page of data objects, most recently touched first."""
    query = (
        select(
            OBJECTS.c.id,
            OBJECTS.c.model,
            OBJECTS.c.model_version.label("version"),
            OBJECTS.c.status,
            OBJECTS.c.extract_status.label("extract"),
            OBJECTS.c.transform_status.label("transform"),
            OBJECTS.c.load_status.label("load"),
            OBJECTS.c.rows_read,
            OBJECTS.c.rows_loaded,
            OBJECTS.c.rows_rejected,
            OBJECTS.c.bytes,
            OBJECTS.c.source_uri,
            OBJECTS.c.target_table,
            OBJECTS.c.updated_at,
            OBJECTS.c.run_id,
            OBJECTS.c.error,
        )
        .order_by(OBJECTS.c.updated_at.desc(), OBJECTS.c.id)
        .limit(limit)
        .offset(offset)
    )
    return _frame(conn, query)


def count_rejects(conn: Connection) -> int:
    """How many rows the transforms have rejected in all."""
    return int(conn.execute(select(func.count()).select_from(REJECTS)).scalar_one())


def rejects_by_reason(conn: Connection, limit: int) -> pd.DataFrame:
    """The commonest (model, field, reason) of rejected rows, most frequent first."""
    rows = func.count().label("rows")
    query = (
        select(OBJECTS.c.model, REJECTS.c.field, REJECTS.c.reason, rows)
        .join(OBJECTS, OBJECTS.c.id == REJECTS.c.object_id)
        .group_by(OBJECTS.c.model, REJECTS.c.field, REJECTS.c.reason)
        .order_by(rows.desc())
        .limit(limit)
    )
    return _frame(conn, query)


def rejects_page(conn: Connection, limit: int, offset: int) -> pd.DataFrame:
    """One page of rejected rows, newest first, with the object they came from."""
    query = (
        select(
            OBJECTS.c.model,
            OBJECTS.c.source_uri,
            REJECTS.c.record,
            REJECTS.c.line,
            REJECTS.c.field,
            REJECTS.c.reason,
            REJECTS.c.raw,
        )
        .join(OBJECTS, OBJECTS.c.id == REJECTS.c.object_id)
        .order_by(REJECTS.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return _frame(conn, query)
