"""Ctrl-C and SIGTERM during a run, delivered as a call at a safe point instead of an exception.

Python raises ``KeyboardInterrupt`` at whatever line the main thread happens to run, which may
be the middle of publishing a stage or of a cleanup that then fails in its place. While a run
is going, the signal only calls ``on_signal``; the run loop cancels between two steps.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["STOP_SIGNALS", "signals_call"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_call(on_signal: Callable[[], None]) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM call ``on_signal`` (the first time) and raise
    ``KeyboardInterrupt`` (a second time, to stop waiting). Off the main thread, where Python
    cannot install handlers, and for signals the process ignores, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        if received.is_set():
            raise KeyboardInterrupt
        received.set()
        on_signal()

    previous = {}
    for number in STOP_SIGNALS:
        if signal.getsignal(number) is not signal.SIG_IGN:
            previous[number] = signal.signal(number, handle)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
