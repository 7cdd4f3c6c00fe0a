"""The dashboard's Altair charts, all coloured by the one status palette."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import altair as alt
import pandas as pd

from . import palette

__all__ = ["duration_trend", "gantt", "outcomes_per_day", "status_scale"]


def status_scale(statuses: Iterable[str]) -> alt.Scale:
    """A colour scale over the statuses present, in the palette's order and colours."""
    present = set(statuses)
    domain = [s for s in palette.STATUS_ORDER if s in present]
    domain += sorted(present - set(domain))
    return alt.Scale(domain=domain, range=[palette.colour(s) for s in domain])


def _status_colour(frame: pd.DataFrame, field: str = "status") -> alt.Color:
    return alt.Color(
        f"{field}:N",
        scale=status_scale(frame[field].dropna().unique()),
        legend=alt.Legend(title=None, orient="bottom"),
    )


def outcomes_per_day(daily: pd.DataFrame) -> alt.Chart:
    """Runs per day stacked by final status; the green share is the success rate."""
    return (
        alt.Chart(daily)
        .mark_bar(stroke="#ffffff", strokeWidth=0.5)
        .encode(
            x=alt.X(
                "yearmonthdate(day):O", title=None, axis=alt.Axis(format="%b %d", labelAngle=0)
            ),
            y=alt.Y("sum(runs):Q", title="runs"),
            color=_status_colour(daily),
            order=alt.Order("status_rank:Q"),
            tooltip=[
                alt.Tooltip("yearmonthdate(day):T", title="day"),
                "status:N",
                alt.Tooltip("sum(runs):Q", title="runs"),
            ],
        )
        .transform_calculate(status_rank=_rank_expression())
        .properties(height=240)
    )


def duration_trend(durations: pd.DataFrame) -> alt.Chart:
    """Each recent run's wall time as a dot coloured by status, with a rolling median line."""
    frame = durations.assign(median=durations["seconds"].rolling(10, min_periods=1).median())
    axis = alt.Axis(format="%b %d %H:%M", labelAngle=0, tickCount=5, labelOverlap=True)
    base = alt.Chart(frame).encode(x=alt.X("started_at:T", title=None, axis=axis))
    dots = base.mark_circle(size=60, opacity=0.9, stroke="#374151", strokeWidth=0.5).encode(
        y=alt.Y("seconds:Q", title="seconds"),
        color=_status_colour(frame),
        tooltip=["id:N", "status:N", alt.Tooltip("seconds:Q", format=".1f"), "started_at:T"],
    )
    median = base.mark_line(color="#6b7280", strokeDash=[4, 3]).encode(y="median:Q")
    return (median + dots).properties(height=240)


def gantt(attempts: pd.DataFrame, now: datetime) -> alt.Chart:
    """One bar per task attempt from start to finish (still running: until now)."""
    frame = attempts[attempts["started_at"].notna()].copy()
    frame["finished_at"] = frame["finished_at"].fillna(pd.Timestamp(now))
    frame["label"] = frame["task"] + frame["attempt"].map(lambda a: f"  #{a}" if a > 1 else "")
    order = list(dict.fromkeys(frame.sort_values("started_at")["task"]))
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadius=3, stroke="#374151", strokeWidth=0.5)
        .encode(
            x=alt.X("started_at:T", title=None, axis=alt.Axis(format="%H:%M:%S")),
            x2="finished_at:T",
            y=alt.Y("task:N", sort=order, title=None),
            color=_status_colour(frame),
            tooltip=[
                "task:N",
                "attempt:Q",
                "status:N",
                alt.Tooltip("duration_ms:Q", title="ms"),
                alt.Tooltip("started_at:T", format="%H:%M:%S.%L"),
                alt.Tooltip("finished_at:T", format="%H:%M:%S.%L"),
            ],
        )
        .properties(height=alt.Step(26))
    )


def _rank_expression() -> str:
    ranks = {status: i for i, status in enumerate(palette.STATUS_ORDER)}
    cases = " : ".join(f"datum.status === '{s}' ? {i}" for s, i in ranks.items())
    return f"{cases} : {len(ranks)}"
