"""Ingest: every data object loaded into the database, its stage statuses, and rejected rows."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from .. import components
from ..data import fetch
from ..queries import ingest
from ..tracebacks import headline

__all__ = ["render"]

TOP_REASONS = 10
STAGE_COLUMNS = ("status", "extract", "transform", "load")


def render() -> None:
    """Draw the Ingest page."""
    st.title("Ingest")
    missing = fetch(ingest.ingest_missing)
    if missing:
        components.empty_state(
            "This database has no ingest ledger yet (missing: "
            + ", ".join(missing)
            + "). Create the schema, then run the pipeline, whose first task ingests a CSV:",
            "make migrate && make run",
        )
        return
    summary = fetch(ingest.object_summary)
    if not summary["objects"]:
        components.empty_state(
            "Nothing has been ingested yet. Run an ingest model, or the whole pipeline:",
            "make run",
        )
        return
    _headline(summary)
    st.subheader("Data objects")
    limit, offset = components.pager(summary["objects"], key="objects_page")
    objects = fetch(ingest.objects_page, limit, offset)
    components.status_table(_shown(objects), status_columns=STAGE_COLUMNS)
    _rejects()


def _headline(summary: Mapping[str, int]) -> None:
    cols = st.columns(5)
    cols[0].metric("Data objects", f"{summary['objects']:,}", border=True)
    cols[1].metric("Rows read", f"{summary['rows_read']:,}", border=True)
    cols[2].metric("Rows loaded", f"{summary['rows_loaded']:,}", border=True)
    cols[3].metric("Rows rejected", f"{summary['rows_rejected']:,}", border=True)
    cols[4].metric("Objects failed", f"{summary['with_error']:,}", border=True)


def _shown(objects: pd.DataFrame) -> pd.DataFrame:
    return objects.assign(
        id=objects["id"].map(lambda value: components.short(value, 10)),
        updated_at=objects["updated_at"].map(components.timestamp),
        error=objects["error"].map(headline),
    )


def _rejects() -> None:
    st.subheader("Rejected rows")
    total = fetch(ingest.count_rejects)
    if not total:
        st.success(
            "No row has been rejected: every row read was loaded.", icon=":material/check_circle:"
        )
        return
    st.caption(f"Most common reasons (of {total:,} rejected rows)")
    components.table(fetch(ingest.rejects_by_reason, TOP_REASONS))
    st.caption("Every rejected row, newest first")
    limit, offset = components.pager(total, key="rejects_page")
    components.table(fetch(ingest.rejects_page, limit, offset))
