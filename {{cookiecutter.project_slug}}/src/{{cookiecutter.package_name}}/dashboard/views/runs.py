"""Runs: every run of the pipeline, filtered by status, date and task, one page at a time."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from ...status import RunState, TaskState
from .. import components
from ..data import fetch
from ..queries import ledger

__all__ = ["render"]

# The task counts of each run, as the ledger's read model names them: last attempts that
# succeeded, that were skipped, and that count as failed.
OK, SKIPPED, FAILED = "ok", TaskState.SKIPPED.value, TaskState.FAILED.value


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
            OK: st.column_config.NumberColumn(f"✓ {OK}", width="small"),
            FAILED: st.column_config.NumberColumn(f"✗ {FAILED}", width="small"),
            SKIPPED: st.column_config.NumberColumn(f"↷ {SKIPPED}", width="small"),
        },
    )


def _filters() -> ledger.RunFilter:
    statuses = fetch(ledger.run_statuses)
    tasks = fetch(ledger.task_names)
    cols = st.columns([2, 2, 2])
    chosen = cols[0].multiselect("Status", statuses, placeholder="any status", key="runs_status")
    days = cols[1].date_input("Started between", value=[], key="runs_dates", format="YYYY-MM-DD")
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
                components.duration(s) if pd.notna(s) else RunState.RUNNING.value
                for s in frame["seconds"]
            ],
            "tasks": frame["tasks_total"],
            OK: frame[OK],
            FAILED: frame[FAILED],
            SKIPPED: frame[SKIPPED],
            "asked for": frame["selection"].map(components.selection),
            "host": frame["host"],
        }
    )
