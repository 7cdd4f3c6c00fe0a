"""Runs: every run of the pipeline, filtered by status, date and task, one page at a time."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from .. import components
from ..data import fetch
from ..queries import ledger

__all__ = ["render"]


def render() -> None:
    """Draw the Runs page."""
    st.title("Runs")
    if not components.ledger_ready(fetch(ledger.ledger_missing)):
        return
    filters = _filters()
    total = fetch(ledger.count_runs, filters)
    if not total:
        if filters == ledger.RunFilter():
            components.empty_state("No runs yet. Run the pipeline once:", "make run")
        else:
            st.info(
                "No run matches these filters; widen the dates or clear a filter.",
                icon=":material/search:",
            )
        return
    limit, offset = components.pager(total, key="runs_page")
    frame = fetch(ledger.runs_page, filters, limit, offset)
    components.run_table(
        _shown(frame),
        frame["id"],
        key="runs_table",
        hint="Select a run to see its tasks, timeline, graph and errors.",
        column_config={
            "run": st.column_config.TextColumn("run", width="medium"),
            "ok": st.column_config.NumberColumn("✓ ok", width="small"),
            "failed": st.column_config.NumberColumn("✗ failed", width="small"),
            "skipped": st.column_config.NumberColumn("↷ skipped", width="small"),
        },
    )


def _filters() -> ledger.RunFilter:
    statuses = fetch(ledger.run_statuses)
    tasks = fetch(ledger.task_names)
    cols = st.columns([2, 2, 2])
    chosen = cols[0].multiselect("Status", statuses, placeholder="any status", key="runs_status")
    days = cols[1].date_input("Started between", value=(), key="runs_dates", format="YYYY-MM-DD")
    task = cols[2].selectbox(
        "Includes task", tasks, index=None, placeholder="any task", key="runs_task"
    )
    start, end = _range(days)
    return ledger.RunFilter(statuses=tuple(chosen), start=start, end=end, task=task)


def _range(days: object) -> tuple[date | None, date | None]:
    if isinstance(days, date):
        return days, days
    picked = list(days) if isinstance(days, (tuple, list)) else []
    if len(picked) == 1:
        return picked[0], None
    if len(picked) == 2:
        return picked[0], picked[1]
    return None, None


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run": frame["id"],
            "status": frame["status"],
            "started": frame["started_at"].map(components.timestamp),
            "duration": [
                components.duration(s) if pd.notna(s) else "running" for s in frame["seconds"]
            ],
            "tasks": frame["tasks_total"],
            "ok": frame["ok"],
            "failed": frame["failed"],
            "skipped": frame["skipped"],
            "asked for": frame["selection"].map(components.selection),
            "host": frame["host"],
        }
    )
