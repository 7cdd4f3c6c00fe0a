"""Run detail: one run's tasks, their timeline, the graph coloured by status, errors and checks.

The run comes from the URL (``?run=<id>``), so a link to a failed run can be shared.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import streamlit as st

from ...status import TASK_FAILURES, TaskState
from ...system import utcnow
from .. import charts, check_results, components, palette
from ..data import code_dag, fetch, fetch_finished
from ..graph import draw_graph
from ..queries import ledger
from ..tracebacks import headline

__all__ = ["render"]

RECENT_RUNS = 50


def render() -> None:
    """Draw the Run detail page."""
    if not components.ledger_ready(fetch(ledger.ledger_missing)):
        st.title("Run detail")
        return
    with st.sidebar:
        run_id = _pick_run()
    run = fetch(ledger.run_header, run_id) if run_id else None
    if run is None:
        st.title("Run detail")
        if run_id is None:
            components.empty_state("No runs yet. Run the pipeline once:", "make run")
        else:
            st.warning(
                f"There is no run {run_id!r} in this database; pick one in the sidebar.",
                icon=":material/search:",
            )
        return
    st.title(f"Run {run['id']}")
    attempts = fetch_finished(ledger.run_attempts, run["finished_at"], run_id)
    final = _final(attempts)
    checks = fetch_finished(ledger.run_checks, run["finished_at"], run_id)
    _header(run, final, check_results.counts(checks))
    st.subheader("Graph")
    _graph(final)
    st.subheader("Timeline")
    _timeline(attempts)
    st.subheader("Tasks")
    _task_table(final)
    _errors(attempts)
    _checks(checks)


def _pick_run() -> str | None:
    recent = fetch(ledger.recent_run_ids, RECENT_RUNS)
    wanted = st.query_params.get("run")
    options = list(recent["id"])
    if wanted and wanted not in options:
        options.insert(0, wanted)
    if not options:
        return None
    labels = {
        run_id: f"{run_id} · {status} · {components.timestamp(started)}"
        for run_id, status, started in zip(recent["id"], recent["status"], recent["started_at"])
    }
    chosen: str | None = st.selectbox(
        "Show another run",
        options,
        index=options.index(wanted) if wanted else 0,
        format_func=lambda run_id: labels.get(run_id, run_id),
        key="detail_run",
    )
    if chosen is not None and chosen != wanted:
        st.query_params["run"] = chosen
    return chosen


def _final(attempts: pd.DataFrame) -> pd.DataFrame:
    """Each task's last attempt, with how many attempts it took."""
    if attempts.empty:
        return attempts.assign(attempts=pd.Series(dtype=int))
    tries = attempts.groupby("task")["attempt"].max().rename("attempts")
    last = attempts.sort_values("attempt").drop_duplicates("task", keep="last")
    return last.join(tries, on="task").sort_values(["started_at", "task"], na_position="last")


def _header(run: dict[str, Any], final: pd.DataFrame, checked: check_results.CheckCounts) -> None:
    end = run["finished_at"]
    took = components.took(run["started_at"], end)
    facts = (
        f"started {components.timestamp(run['started_at'])} · finished "
        f"{components.timestamp(end)} · took {took} · host {run['host']} (pid {run['pid']}) · "
        f"{components.selection(run['selection'])} · code {components.short(run['code_version'])}"
    )
    st.markdown(
        f"{components.chip(run['status'])}&nbsp; <small style='color: #4b5563'>"
        f"{html.escape(facts)}</small>",
        unsafe_allow_html=True,
    )
    _counts(final, checked)


def _counts(final: pd.DataFrame, checked: check_results.CheckCounts) -> None:
    """The run's tasks counted by the status of their last attempt, the rows they wrote and,
    when it ran checks, how many of them failed."""
    counts = final["status"].value_counts() if not final.empty else pd.Series(dtype=int)
    succeeded = int(counts.get(TaskState.SUCCESS, 0))
    failed = int(sum(counts.get(s, 0) for s in TASK_FAILURES))
    skipped = int(counts.get(TaskState.SKIPPED, 0))
    rows = final["rows_affected"].dropna().sum() if not final.empty else 0
    cols = st.columns(6 if checked.total else 5)
    cols[0].metric("Tasks", f"{len(final)}", border=True)
    cols[1].metric(":material/check_circle: Succeeded", succeeded, border=True)
    cols[2].metric(":material/cancel: Failed", failed, border=True)
    cols[3].metric(":material/skip_next: Skipped", skipped, border=True)
    cols[4].metric("Rows written", f"{int(rows):,}", border=True)
    if checked.total:
        cols[5].metric("Checks failed", f"{checked.failed} of {checked.total}", border=True)


def _timeline(attempts: pd.DataFrame) -> None:
    if attempts["started_at"].notna().sum() == 0:
        st.caption("No task of this run has started (all were skipped or never reached).")
        return
    st.altair_chart(charts.gantt(attempts, utcnow()), width="stretch")


def _graph(final: pd.DataFrame) -> None:
    dag, problem = code_dag()
    if dag is None:
        st.caption(f"The graph cannot be drawn from the current code: {problem}")
        return
    statuses = dict(zip(final["task"], final["status"]))
    gone = sorted(set(statuses) - set(dag.names))
    draw_graph(dag, statuses)
    if gone:
        st.caption("Not in the code any more: " + ", ".join(gone))


def _task_table(final: pd.DataFrame) -> None:
    shown = pd.DataFrame(
        {
            "task": final["task"],
            "status": final["status"],
            "reason": final["reason"].fillna(""),
            "attempts": final["attempts"],
            "duration": final["duration_ms"].map(
                lambda ms: components.duration(ms / 1000) if pd.notna(ms) else ""
            ),
            "rows": final["rows_affected"].astype("Int64"),
            "fingerprint": final["fingerprint"].map(components.short),
            "started": final["started_at"].map(components.timestamp),
            "finished": final["finished_at"].map(components.timestamp),
        }
    )
    components.status_table(shown)


def _errors(attempts: pd.DataFrame) -> None:
    failed = attempts[attempts["error"].notna() & (attempts["error"].astype(str) != "")]
    if failed.empty:
        return
    st.subheader(f"Errors ({len(failed)})")
    for row in failed.itertuples():
        what = headline(str(row.error))
        title = f"{palette.icon(row.status)} {row.task} · attempt {row.attempt} · {what}"
        with st.expander(title[:160], expanded=len(failed) == 1):
            st.code(str(row.error), language="python", wrap_lines=True)


def _checks(checks: pd.DataFrame) -> None:
    mine = check_results.counts(checks)
    title = "Data checks"
    if mine.failed or mine.warned:
        title += f" ({mine.failed} failed, {mine.warned} warned)"
    st.subheader(title)
    if checks.empty:
        st.caption("No data checks ran in this run; add `checks=[...]` to a task to get some.")
        return
    check_results.render(checks)
