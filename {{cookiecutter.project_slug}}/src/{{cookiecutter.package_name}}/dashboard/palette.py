"""One colour per status, used by every table, chart, badge and graph of the dashboard.

Run, task, data-check and ingest-stage statuses share the palette, so "failed" is the same red
on the Overview chart, in the Runs table, on the Gantt timeline and on the DAG.
"""

from __future__ import annotations

from ..core.drawing import COLOURS as GRAPH_FILLS
from ..status import CheckStatus, ObjectStatus, TaskState

__all__ = [
    "STATUS_COLOURS",
    "STATUS_ORDER",
    "STRONG_COLOURS",
    "UNKNOWN_COLOUR",
    "cell_style",
    "colour",
    "icon",
    "label",
    "strong",
]

UNKNOWN_COLOUR = "#e5e7eb"
# What the ingest ledger records for a stage (extract, transform, load) that finished.
_STAGE_DONE = "done"

# Same-meaning statuses of checks, ingest stages and data objects borrow the task colours.
_ALIASES: dict[str, TaskState] = {
    CheckStatus.PASS: TaskState.SUCCESS,
    _STAGE_DONE: TaskState.SUCCESS,
    ObjectStatus.LOADED: TaskState.SUCCESS,
    CheckStatus.FAIL: TaskState.FAILED,
    CheckStatus.ERROR: TaskState.CRASHED,
}
_OWN_FILLS: dict[str, str] = {TaskState.PENDING: "#eeeeee", CheckStatus.WARN: "#fde68a"}

# Fills come from the graph drawing, so a node on the DAG and a cell in a table match exactly.
STATUS_COLOURS: dict[str, str] = {
    **_OWN_FILLS,
    **GRAPH_FILLS,
    **{alias: GRAPH_FILLS.get(real, UNKNOWN_COLOUR) for alias, real in _ALIASES.items()},
}

# Text and outlines on those fills: the same hue, dark enough to read at small sizes.
STRONG_COLOURS: dict[str, str] = {
    TaskState.SUCCESS: "#1b5e20",
    TaskState.FAILED: "#b71c1c",
    TaskState.UPSTREAM_FAILED: "#b45309",
    TaskState.SKIPPED: "#4b5563",
    TaskState.CANCELLED: "#6b21a8",
    TaskState.CRASHED: "#7f1d1d",
    TaskState.RUNNING: "#1d4ed8",
    TaskState.PENDING: "#6b7280",
    CheckStatus.WARN: "#854d0e",
}
STRONG_COLOURS.update({alias: STRONG_COLOURS[real] for alias, real in _ALIASES.items()})

# The order of legends and stacked bars: good news first, then the problems.
STATUS_ORDER: tuple[TaskState, ...] = (
    TaskState.SUCCESS,
    TaskState.SKIPPED,
    TaskState.RUNNING,
    TaskState.PENDING,
    TaskState.CANCELLED,
    TaskState.UPSTREAM_FAILED,
    TaskState.FAILED,
    TaskState.CRASHED,
)

# Symbols every system font has (DejaVu included), so colour is never the only cue.
_ICONS: dict[str, str] = {
    TaskState.SUCCESS: "✓",
    TaskState.FAILED: "✗",
    TaskState.CRASHED: "☠",
    TaskState.UPSTREAM_FAILED: "⊘",
    CheckStatus.WARN: "⚠",
    TaskState.RUNNING: "↻",
    TaskState.PENDING: "…",
    TaskState.SKIPPED: "↷",
    TaskState.CANCELLED: "■",
}
_ICONS.update({alias: _ICONS[real] for alias, real in _ALIASES.items()})


def colour(status: str | None) -> str:
    """The fill colour of ``status`` (light grey for anything unknown)."""
    return STATUS_COLOURS.get((status or "").lower(), UNKNOWN_COLOUR)


def strong(status: str | None) -> str:
    """The text/outline colour that goes with ``colour(status)``."""
    return STRONG_COLOURS.get((status or "").lower(), "#374151")


def icon(status: str | None) -> str:
    """A one-character symbol for the status, so colour is never the only cue."""
    return _ICONS.get((status or "").lower(), "•")


def label(status: str | None) -> str:
    """``status`` as people read it: ``upstream_failed`` becomes ``upstream failed``."""
    return (status or "unknown").replace("_", " ")


def cell_style(status: object) -> str:
    """CSS for a status cell of a pandas Styler: a tinted background and a strong text colour."""
    if not isinstance(status, str) or not status:
        return ""
    fill = colour(status)
    ink = "#ffffff" if _is_dark(fill) else strong(status)
    return f"background-color: {fill}; color: {ink}; font-weight: 600"


def _is_dark(hex_colour: str) -> bool:
    red, green, blue = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.45
