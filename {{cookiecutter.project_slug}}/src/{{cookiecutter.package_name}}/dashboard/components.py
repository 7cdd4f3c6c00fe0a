"""Small building blocks every page shares: status chips, tables, pagers, empty states, times."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from ..status import RunState, TaskState
from . import cells, palette
from .pages import open_run

if TYPE_CHECKING:
    from streamlit.elements.lib.column_types import ColumnConfig

__all__ = [
    "PAGE_SIZE",
    "chip",
    "duration",
    "empty_state",
    "ledger_ready",
    "legend",
    "pager",
    "run_table",
    "selection",
    "short",
    "status_table",
    "table",
    "timestamp",
    "took",
]

PAGE_SIZE = 50


def chip(status: str | None) -> str:
    """HTML for a status chip in the palette's exact colours, with its symbol and name."""
    style = palette.cell_style(status or "unknown")
    text = html.escape(f"{palette.icon(status)} {palette.label(status)}")
    return (
        f'<span style="{style}; border-radius: 0.75rem; padding: 0.15rem 0.6rem; '
        f'font-size: 0.85rem; white-space: nowrap">{text}</span>'
    )


def legend(statuses: Sequence[str] = palette.STATUS_ORDER) -> None:
    """One chip per status: the key to every colour on the page."""
    chips = " ".join(chip(status) for status in statuses if status != TaskState.PENDING)
    st.markdown(f"<div style='line-height: 2'>{chips}</div>", unsafe_allow_html=True)


def status_table(
    frame: pd.DataFrame,
    *,
    status_columns: Sequence[str] = ("status",),
    column_config: Mapping[str, ColumnConfig] | None = None,
) -> None:
    """A dataframe whose status cells carry the status colours of every other page."""
    styler, config = cells.shown(frame, status_columns, column_config)
    st.dataframe(styler, hide_index=True, column_config=config, width="stretch")


def run_table(
    frame: pd.DataFrame,
    run_ids: pd.Series,
    *,
    key: str,
    hint: str,
    column_config: Mapping[str, ColumnConfig] | None = None,
) -> None:
    """A status table of runs with ``hint`` under it; selecting a row opens the Run detail page
    of its run (``run_ids`` holds each row's run id)."""
    styler, config = cells.shown(frame, ("status",), column_config)
    event = st.dataframe(
        styler,
        hide_index=True,
        column_config=config,
        key=key,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
    )
    st.caption(hint)
    rows = event.selection.rows
    if rows:
        open_run(str(run_ids.iloc[rows[0]]))


def table(frame: pd.DataFrame, column_config: Mapping[str, ColumnConfig] | None = None) -> None:
    """A dataframe with whole numbers shown whole and empty cells blank."""
    styler, config = cells.shown(frame, (), column_config)
    st.dataframe(styler, hide_index=True, column_config=config, width="stretch")


def pager(total: int, *, key: str, page_size: int = PAGE_SIZE) -> tuple[int, int]:
    """A page picker under a list; returns (limit, offset) for the SQL."""
    pages = max(1, math.ceil(total / page_size))
    page = 1
    if pages > 1:
        page = st.pagination(pages, key=key, max_visible_pages=9)
    first = (page - 1) * page_size
    st.caption(f"Rows {first + 1 if total else 0}–{min(total, first + page_size)} of {total:,}")
    return page_size, first


def empty_state(message: str, command: str | None = None) -> None:
    """What is missing and the one command that fixes it."""
    st.info(message, icon=":material/lightbulb:")
    if command:
        st.code(command, language="bash")


def ledger_ready(missing: Sequence[str]) -> bool:
    """False (after saying how to fix it) when the run-ledger tables are not there yet."""
    if not missing:
        return True
    empty_state(
        "This database has no run ledger yet (missing: "
        + ", ".join(missing)
        + "). Create the schema, then run the pipeline once:",
        "make migrate && make run",
    )
    return False


def duration(seconds: float | None) -> str:
    """``1h 02m``, ``3m 07s``, ``4.2s`` or an empty string for no value."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def took(start: datetime, end: datetime | None) -> str:
    """How long a run took, or ``running`` while it has no end."""
    if end is None:
        return RunState.RUNNING.value
    return duration((end - start).total_seconds())


def timestamp(value: datetime | None) -> str:
    """A ledger time (naive UTC) as ``2026-11-23 17:55:49 UTC``."""
    if value is None or pd.isna(value):
        return "—"
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M:%S} UTC"


def short(text: str | None, width: int = 12) -> str:
    """The first ``width`` characters of a long id or fingerprint."""
    if not isinstance(text, str):
        return ""
    return text if len(text) <= width else text[:width] + "…"


_RUN_FLAGS = ("full_refresh", "resume", "fail_fast", "dry_run")


def selection(recorded: str | None) -> str:
    """What a run was asked to do, from the ledger's record of its arguments, in CLI words."""
    if not recorded:
        return "all tasks"
    try:
        args = json.loads(recorded)
    except ValueError:
        return recorded
    if not isinstance(args, dict):
        return recorded
    parts = [
        f"--{option} {' '.join(map(str, args[option]))}"
        for option in ("select", "exclude")
        if args.get(option)
    ]
    parts += [f"--{flag.replace('_', '-')}" for flag in _RUN_FLAGS if args.get(flag)]
    return " ".join(parts) or "all tasks"
