"""The data checks of one run, task by task: each check's severity, result, failing count and a
sample of the rows that broke it.

The ledger keeps a sample as JSON: a list of rows for a check that found failing rows, or
``{"error": message}`` for one whose query could not run. Rows are drawn as a small table and
an error as its message, never as the raw string.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import pandas as pd
import streamlit as st

from ..status import CHECK_FAILURES, CheckStatus
from . import components, palette

__all__ = ["CheckCounts", "counts", "error_message", "failing_rows", "render", "sample_frame"]

_FAILED = [str(status) for status in CHECK_FAILURES]


class CheckCounts(NamedTuple):
    """How many checks ran, and how many of them failed (``fail`` or ``error``) or warned."""

    total: int
    failed: int
    warned: int


def counts(checks: pd.DataFrame) -> CheckCounts:
    """The run's checks counted over each task's last checked attempt."""
    final = _last_attempts(checks)
    statuses = final["status"] if not final.empty else pd.Series(dtype=str)
    return CheckCounts(
        total=len(final),
        failed=int(statuses.isin(_FAILED).sum()),
        warned=int((statuses == CheckStatus.WARN).sum()),
    )


def _last_attempts(checks: pd.DataFrame) -> pd.DataFrame:
    """Only the checks of each task's last attempt that ran checks (a retry re-checks)."""
    if checks.empty:
        return checks
    last = checks.groupby("task")["attempt"].transform("max")
    return checks[checks["attempt"] == last]


def _parsed(sample: object) -> object:
    if not isinstance(sample, str) or not sample:
        return None
    try:
        return json.loads(sample)
    except ValueError:
        return sample


def error_message(sample: object) -> str | None:
    """The message of a check that could not run, or None."""
    parsed = _parsed(sample)
    if isinstance(parsed, dict) and "error" in parsed:
        return str(parsed["error"])
    return None


def failing_rows(count: int) -> str:
    """``1 failing row``, ``20 failing rows``."""
    return f"{count:,} failing row" + ("" if count == 1 else "s")


def sample_frame(sample: object) -> pd.DataFrame | None:
    """A sample of failing rows as a table (None when there is no sample of rows)."""
    parsed = _parsed(sample)
    if isinstance(parsed, dict) and "error" not in parsed:
        parsed = [parsed]
    if not isinstance(parsed, list) or not parsed:
        return None
    if not all(isinstance(row, dict) for row in parsed):
        return pd.DataFrame({"value": [str(row) for row in parsed]})
    return pd.DataFrame(parsed)


def render(checks: pd.DataFrame) -> None:
    """One expander per task that ran checks; a task with a failed check opens expanded."""
    final = _last_attempts(checks)
    failing = final.groupby("task")["status"].agg(lambda s: s.isin(_FAILED).any())
    # Tasks whose checks failed first, then by name.
    for task in sorted(failing.index, key=lambda name: (not failing[name], name)):
        _task(task, final[final["task"] == task], expanded=bool(failing[task]))


def _task(task: str, checks: pd.DataFrame, *, expanded: bool) -> None:
    mine = counts(checks)
    worst = CheckStatus.FAIL if mine.failed else CheckStatus.WARN if mine.warned else None
    title = f"{palette.icon(worst or CheckStatus.PASS)} {task} · checks: {_summary(mine)}"
    with st.expander(title, expanded=expanded):
        attempt = int(checks["attempt"].iloc[0])
        if attempt > 1:
            st.caption(f"Checks of attempt {attempt}, the task's last.")
        components.status_table(
            pd.DataFrame(
                {
                    "check": checks["name"],
                    "severity": checks["severity"],
                    "result": checks["status"],
                    # A check that could not run counted nothing: its cell stays blank.
                    "failing rows": checks["failing_rows"]
                    .where(checks["status"] != CheckStatus.ERROR)
                    .astype("Int64"),
                }
            ),
            status_columns=("result",),
        )
        for row in checks.itertuples():
            _outcome(row.name, row.status, row.failing_rows, row.sample)


def _summary(mine: CheckCounts) -> str:
    parts = [f"{mine.failed} of {mine.total} failed"] if mine.failed else []
    parts += [f"{mine.warned} warned"] if mine.warned else []
    return ", ".join(parts) or f"all {mine.total} passed"


def _outcome(name: str, status: str, failing: float | None, sample: object) -> None:
    """Under the table: what broke each check that did not pass."""
    if status == CheckStatus.PASS:
        return
    message = error_message(sample)
    head = f"{components.chip(status)}&nbsp; `{name}`"
    if message is not None:
        st.markdown(f"{head} could not run:", unsafe_allow_html=True)
        st.code(message, language="text", wrap_lines=True)
        return
    rows = sample_frame(sample)
    count = int(failing) if failing is not None and pd.notna(failing) else 0
    shown = len(rows) if rows is not None else 0
    note = f", the first {shown}:" if 0 < shown < count else ":" if shown else ""
    st.markdown(f"{head} · {failing_rows(count)}{note}", unsafe_allow_html=True)
    if rows is not None:
        components.table(rows)
