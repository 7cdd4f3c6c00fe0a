"""One process-wide guard over the interpreter's thread switch interval during loads.

``sys.setswitchinterval`` is global, so loads running at once on several threads must not
each save and restore it: one could save another's lowered value and restore that last,
leaving the process lowered for good. Instead every load enters ``lowered_switch_interval``:
the first one in saves the interval and lowers it, the last one out restores what was saved;
the entries between (nested, or overlapping from any threads) only count.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SWITCH_INTERVAL", "lowered_switch_interval"]

# The interpreter's thread switch interval while a load runs beside the parsing: the loading
# thread needs the GIL back after each step (a 16 KiB packet of LOAD DATA's file, a SQLite
# statement); at the default 5 ms the database would wait for rows while we parse on.
SWITCH_INTERVAL = 0.0001

_lock = threading.Lock()
_depth = 0  # how many entries are inside
_saved = 0.0  # the interval before the first entry, while _depth > 0


@contextmanager
def lowered_switch_interval() -> Iterator[None]:
    """Hold the switch interval at ``SWITCH_INTERVAL`` (never above what it was) inside."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = sys.getswitchinterval()
            _set(min(_saved, SWITCH_INTERVAL))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _set(_saved)


def _set(interval: float) -> None:
    """Set the interval so that ``sys.getswitchinterval()`` reads ``interval`` back.

    CPython keeps whole microseconds, truncated: 100 µs reads back as 9.999...e-05, which set
    as it is would become 99 µs. Where the interval reads back short, half a microsecond more
    lands on the nearest whole one.
    """
    sys.setswitchinterval(interval)
    if sys.getswitchinterval() < interval:
        sys.setswitchinterval(interval + 0.5e-6)
