"""The one line of a stored error that says what went wrong, for headings and table cells.

The ledger stores a failed attempt's whole traceback. Its last line is only the end of the
exception's message when that message has several lines, so a heading takes the exception
line itself (``Type: first line of the message``), found after the traceback's frames.
"""

from __future__ import annotations

__all__ = ["headline"]

_TRACEBACK = "Traceback (most recent call last):"


def headline(error: object) -> str:
    """``ValueError: what failed`` from a stored traceback, or the first line of a message that
    is not one; an empty string for no error."""
    if not isinstance(error, str) or not error.strip():
        return ""
    lines = error.strip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(_TRACEBACK)]
    if not starts:
        return lines[0].strip()
    # The last traceback is the exception that was raised in the end (chained ones come first).
    for line in lines[starts[-1] + 1 :]:
        if line.strip() and not line[0].isspace():
            return line.strip()
    return lines[-1].strip()
