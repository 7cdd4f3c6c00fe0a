"""Overview: the run in progress, how recent runs went, and what failed last time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from ...status import RUN_TERMINAL, TERMINAL
from ...system import utcnow
from .. import charts, components
from ..data import fetch
from ..pages import open_run
from ..queries import ledger, relations

__all__ = ["render"]

WINDOW_DAYS = 7
TREND_DAYS = 30
TREND_RUNS = 100
LATEST_RUNS = 8
LIVE_REFRESH_S = 3
STALE_HEARTBEAT = timedelta(minutes=2)


def render() -> None:
    """Draw the Overview page."""
    st.title("Overview")
    if not components.ledger_ready(fetch(ledger.ledger_missing)):
        return
    now = _now()
    summary = fetch(ledger.run_summary, now - timedelta(days=WINDOW_DAYS))
    if not summary["runs"]:
        components.empty_state(
            "No runs yet. Run the pipeline once and this page fills in with its history:",
            "make run",
        )
        return
    live = fetch(ledger.active_run)
    if live is not None:
        _live_run()
    _headline(summary, now)
    _rejected_builds()
    _trends(now)
    _latest_runs()
    _last_failures()


def _now() -> datetime:
    """Naive UTC, as the ledger stores times, to the second: the cached queries it bounds are
    shared by every redraw within that second."""
    return utcnow().replace(microsecond=0)


def _headline(summary: ledger.RunSummary, now: datetime) -> None:
    recent, ok, bad = summary["recent"], summary["ok"], summary["bad"]
    rate = f"{100 * ok / recent:.0f}%" if recent else "—"
    last = summary["last_started"]
    since = components.duration((now - last).total_seconds()) if last is not None else "—"
    # The window is said once above the cards, so every label fits a card at 1280 px.
    st.caption(f"Last {WINDOW_DAYS} days")
    cols = st.columns(4)
    cols[0].metric("Runs", f"{recent:,}", border=True)
    cols[1].metric("Success rate", rate, border=True)
    cols[2].metric("Failed or crashed", f"{bad:,}", border=True)
    cols[3].metric(
        "Since the last run", since, border=True, help=f"{summary['runs']:,} runs in all"
    )


def _rejected_builds() -> None:
    """The tables whose last build their checks refused (kept as ``<table>__rejected``)."""
    refused = fetch(relations.rejected_builds)
    if refused.empty:
        return
    many = len(refused) > 1
    st.warning(
        f"{len(refused)} table{'s' if many else ''} with a last build rejected by "
        f"{'their' if many else 'its'} checks (the published data is unchanged): "
        f"{', '.join(refused['table'])}. The Tables page shows why, and the rejected rows.",
        icon=":material/gpp_bad:",
    )


@st.fragment(run_every=LIVE_REFRESH_S)
def _live_run() -> None:
    run = fetch(ledger.active_run)
    if run is None:
        st.rerun()  # the run just ended: redraw the whole page with its outcome
    counts = run["counts"]
    done = sum(n for status, n in counts.items() if status in TERMINAL)
    total = run["tasks_total"] or sum(counts.values()) or 1
    with st.container(border=True):
        st.subheader(f":material/sync: Run {run['id']} is running")
        st.progress(min(done / total, 1.0), text=f"{done} of {total} tasks finished")
        parts = [f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items())]
        st.caption(f"Started {components.timestamp(run['started_at'])} · " + ", ".join(parts))
        heartbeat = run.get("heartbeat_at")
        if heartbeat is not None and _now() - heartbeat > STALE_HEARTBEAT:
            st.warning(
                f"No heartbeat since {components.timestamp(heartbeat)}: the process may have "
                "died. The next `make run` marks this run crashed.",
                icon=":material/warning:",
            )
        if st.button("Open this run", key="open_live"):
            open_run(run["id"])


def _trends(now: datetime) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader(f"Runs per day, last {TREND_DAYS} days")
        daily = fetch(ledger.daily_outcomes, now - timedelta(days=TREND_DAYS))
        if daily.empty:
            st.caption(f"No runs in the last {TREND_DAYS} days.")
        else:
            st.altair_chart(charts.outcomes_per_day(daily), width="stretch")
    with right:
        st.subheader(f"Run duration, last {TREND_RUNS} runs")
        durations = fetch(ledger.recent_durations, TREND_RUNS)
        if durations.empty:
            st.caption("No finished runs yet.")
        else:
            st.altair_chart(charts.duration_trend(durations), width="stretch")


def _latest_runs() -> None:
    st.subheader("Latest runs")
    frame = fetch(ledger.recent_run_ids, LATEST_RUNS)
    counts = fetch(ledger.final_task_counts, tuple(frame["id"]))
    shown = frame.assign(
        started=frame["started_at"].map(components.timestamp),
        duration=[
            components.took(start, end)
            for start, end in zip(frame["started_at"], frame["finished_at"])
        ],
        tasks=[_task_summary(counts, run_id) for run_id in frame["id"]],
    )[["id", "status", "started", "duration", "tasks"]]
    components.run_table(shown, shown["id"], key="latest_runs", hint="Select a run to open it.")


def _task_summary(counts: pd.DataFrame, run_id: str) -> str:
    mine = counts[counts["run_id"] == run_id]
    return ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in zip(mine["status"], mine["tasks"]))


def _last_failures() -> None:
    latest = fetch(ledger.recent_run_ids, 5)
    finished = latest[latest["status"].isin([str(s) for s in RUN_TERMINAL])]
    if finished.empty:
        return
    run_id = str(finished.iloc[0]["id"])
    failures = fetch(ledger.failed_tasks, run_id)
    st.subheader(f"Failing tasks of the last run ({run_id})")
    if failures.empty:
        st.success(
            "Every task of the last finished run succeeded or was skipped.",
            icon=":material/check_circle:",
        )
        return
    components.status_table(
        failures[["task", "status", "attempt", "reason", "error"]],
        column_config={"error": st.column_config.TextColumn("error", width="large")},
    )
