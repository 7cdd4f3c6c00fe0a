"""One colour per status, used by every table, chart, badge and graph of the dashboard.

Run, task, data-check and ingest-stage statuses share the palette, so "failed" is the same red
on the Overview chart, in the Runs table, on the Gantt timeline and on the DAG.
"""

from __future__ import annotations

from ..core.drawing import COLOURS as GRAPH_FILLS

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

# Same-meaning statuses of checks and ingest stages borrow the task colours.
_ALIASES = {
    "pass": "success",
    "done": "success",
    "loaded": "success",
    "fail": "failed",
    "error": "crashed",
    "rejected": "upstream_failed",
}
_OWN_FILLS = {"pending": "#eeeeee", "warn": "#fde68a"}

# Fills come from the graph drawing, so a node on the DAG and a cell in a table match exactly.
STATUS_COLOURS: dict[str, str] = {
    **_OWN_FILLS,
    **GRAPH_FILLS,
    **{alias: GRAPH_FILLS.get(real, UNKNOWN_COLOUR) for alias, real in _ALIASES.items()},
}

# Text and outlines on those fills: the same hue, dark enough to read at small sizes.
STRONG_COLOURS: dict[str, str] = {
    "success": "#1b5e20",
    "failed": "#b71c1c",
    "upstream_failed": "#b45309",
    "skipped": "#4b5563",
    "cancelled": "#6b21a8",
    "crashed": "#7f1d1d",
    "running": "#1d4ed8",
    "pending": "#6b7280",
    "warn": "#854d0e",
}
STRONG_COLOURS.update({alias: STRONG_COLOURS[real] for alias, real in _ALIASES.items()})

# The order of legends and stacked bars: good news first, then the problems.
STATUS_ORDER: tuple[str, ...] = (
    "success",
    "skipped",
    "running",
    "pending",
    "cancelled",
    "upstream_failed",
    "failed",
    "crashed",
)

# Symbols every system font has (DejaVu included), so colour is never the only cue.
_ICONS = {
    "success": "✓",
    "pass": "✓",
    "done": "✓",
    "loaded": "✓",
    "failed": "✗",
    "fail": "✗",
    "crashed": "☠",
    "error": "☠",
    "upstream_failed": "⊘",
    "rejected": "⊘",
    "warn": "⚠",
    "running": "↻",
    "pending": "…",
    "skipped": "↷",
    "cancelled": "■",
}


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
