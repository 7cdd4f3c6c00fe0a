"""The dashboard's reads of table lineage: the tables each task read and wrote in its latest
execution (the same read model as ``list --lineage``)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, inspect

from ...db import ledger_reads as reads
from ...db.models import TABLES

__all__ = ["latest_tables"]

COLUMNS = ["task", "table_name", "access"]


def latest_tables(conn: Connection) -> pd.DataFrame:
    """Columns task, table_name, access; empty when the ledger has no lineage table yet."""
    if TABLES.name not in inspect(conn).get_table_names():
        return pd.DataFrame(columns=COLUMNS)
    result = conn.execute(reads.latest_lineage_query())
    return pd.DataFrame(result.fetchall(), columns=COLUMNS)
