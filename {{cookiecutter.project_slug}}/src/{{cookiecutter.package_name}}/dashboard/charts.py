"""The dashboard's Altair charts, all coloured by the one status palette."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import altair as alt
import pandas as pd

from . import palette

__all__ = ["duration_trend", "gantt", "outcomes_per_day", "status_scale", "time_axis"]


def status_scale(statuses: Iterable[str]) -> alt.Scale:
    """A colour scale over the statuses present, in the palette's order and colours."""
    present = set(statuses)
    domain: list[str] = [s for s in palette.STATUS_ORDER if s in present]
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
    # altair leaves its mark_* methods unannotated: the chart is named here
    bars: alt.Chart = alt.Chart(daily).mark_bar(stroke="#ffffff", strokeWidth=0.5)
    return (
        bars.encode(
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


def duration_trend(durations: pd.DataFrame) -> alt.LayerChart | alt.FacetChart:
    """Each recent run's wall time as a dot coloured by status, with a rolling median line."""
    frame = durations.assign(median=durations["seconds"].rolling(10, min_periods=1).median())
    base = alt.Chart(frame).encode(
        x=alt.X(
            "started_at:T",
            title=None,
            axis=time_axis(frame["started_at"]),
            scale=alt.Scale(type="utc"),  # the ledger's times are UTC, as on every page
        )
    )
    dots: alt.Chart = base.mark_circle(
        size=60, opacity=0.9, stroke="#374151", strokeWidth=0.5
    ).encode(
        y=alt.Y("seconds:Q", title="seconds"),
        color=_status_colour(frame),
        tooltip=[
            "id:N",
            "status:N",
            alt.Tooltip("seconds:Q", format=".1f"),
            alt.Tooltip("started_at:T", format="%Y-%m-%d %H:%M:%S UTC", formatType="utc"),
        ],
    )
    median: alt.Chart = base.mark_line(color="#6b7280", strokeDash=[4, 3]).encode(y="median:Q")
    return (median + dots).properties(height=240)


# How precise a tick label must be for the time span a chart covers: (span up to, format).
_TICK_FORMATS = (
    (pd.Timedelta(minutes=2), "%H:%M:%S"),
    (pd.Timedelta(days=1), "%H:%M"),
    (pd.Timedelta(days=4), "%b %d %H:%M"),
)
_TICKS = 5


def time_axis(times: pd.Series) -> alt.Axis:
    """An axis over ``times`` with up to five ticks whose labels are all different: the label
    format is as precise as the span needs (seconds for runs a minute apart, days for a month)."""
    known = pd.to_datetime(times.dropna())
    first, last = (known.min(), known.max()) if not known.empty else (pd.NaT, pd.NaT)
    if pd.isna(first):
        return alt.Axis(labelAngle=0)
    span = last - first
    fmt = next((fmt for limit, fmt in _TICK_FORMATS if span <= limit), "%b %d")
    unit = {"%H:%M:%S": "s", "%b %d": "D"}.get(fmt, "min")
    ticks: dict[str, pd.Timestamp] = {}
    for moment in pd.date_range(first, last, periods=_TICKS) if span else [first]:
        tick = moment.ceil(unit)
        if tick > last:
            tick = moment.floor(unit)
        ticks.setdefault(tick.strftime(fmt), tick)
    values = [_datetime(tick) for tick in ticks.values() if first.floor(unit) <= tick <= last]
    return alt.Axis(format=fmt, values=values, labelAngle=0, labelOverlap=True)


def _datetime(moment: pd.Timestamp) -> alt.DateTime:
    """A tick at ``moment`` (naive UTC, as the ledger stores times)."""
    return alt.DateTime(
        utc=True,
        year=moment.year,
        month=moment.month,
        date=moment.day,
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
    )


def gantt(attempts: pd.DataFrame, now: datetime) -> alt.Chart:
    """One bar per task attempt from start to finish (still running: until now)."""
    frame = attempts[attempts["started_at"].notna()].copy()
    frame["finished_at"] = frame["finished_at"].fillna(pd.Timestamp(now))
    frame["label"] = frame["task"] + frame["attempt"].map(lambda a: f"  #{a}" if a > 1 else "")
    order = list(dict.fromkeys(frame.sort_values("started_at")["task"]))
    bars: alt.Chart = alt.Chart(frame).mark_bar(cornerRadius=3, stroke="#374151", strokeWidth=0.5)
    return bars.encode(
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
    ).properties(height=alt.Step(26))


def _rank_expression() -> str:
    ranks = {status: i for i, status in enumerate(palette.STATUS_ORDER)}
    cases = " : ".join(f"datum.status === '{s}' ? {i}" for s, i in ranks.items())
    return f"{cases} : {len(ranks)}"
