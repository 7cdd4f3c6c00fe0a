"""Where a stored error points: its ``file:line`` and the first and last lines of what was raised.

An attempt's error is stored as ``Type: message`` followed by the whole traceback
(``core/attempt.py``); these helpers read that text back, so the ledger needs nothing more.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["error_headline", "error_location", "traceback_text"]

TRACEBACK_HEAD = "Traceback (most recent call last):"
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)', re.MULTILINE)


def error_location(error: str | None, root: Path | None = None, models_dir: str = "models") -> str:
    """``models/x.py:4``: the innermost frame in the project's models, else the innermost one
    (empty when the error has no traceback)."""
    frames = [(match["path"], match["line"]) for match in _FRAME.finditer(error or "")]
    if not frames:
        return ""
    if root is not None:
        folder = (Path(root) / models_dir).resolve()
        frames = [frame for frame in frames if _inside(frame[0], folder)] or frames
    path, line = frames[-1]
    return f"{shown_path(path, root)}:{line}"


def error_headline(error: str | None) -> tuple[str, str]:
    """The first and the last line of what was raised (the last is empty when it is the same)."""
    text = (error or "").strip()
    head = text.split(TRACEBACK_HEAD, 1)[0].strip() or text
    lines = [line for line in head.splitlines() if line.strip()]
    if not lines:
        return "", ""
    return lines[0].strip(), lines[-1].strip() if len(lines) > 1 else ""


def traceback_text(error: str | None) -> str:
    """The traceback part of a stored error (the whole error when it has none)."""
    text = (error or "").strip()
    at = text.find(TRACEBACK_HEAD)
    return text[at:] if at >= 0 else text


def shown_path(path: str, root: Path | None) -> str:
    """``path`` relative to the project root when it lies inside it."""
    if root is None:
        return path
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except (ValueError, OSError):
        return path


def _inside(path: str, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder)
    except OSError:
        return False
