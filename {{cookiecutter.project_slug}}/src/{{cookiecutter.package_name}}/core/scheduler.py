"""The ready queue: hands out tasks whose upstream tasks are done, and nothing else.

Built on ``graphlib.TopologicalSorter``: a task is ready the moment its last parent finishes,
never waiting for a "level". A failed task's descendants are withdrawn and returned so the
caller can record them as ``upstream_failed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from graphlib import TopologicalSorter

__all__ = ["ReadyQueue"]


class ReadyQueue:
    """Ready tasks of a graph (``upstream`` maps each task to its parents inside the graph)."""

    def __init__(self, upstream: Mapping[str, Iterable[str]]):
        self._upstream = {name: tuple(parents) for name, parents in upstream.items()}
        self._children: dict[str, list[str]] = {name: [] for name in self._upstream}
        for name, parents in self._upstream.items():
            for parent in parents:
                self._children[parent].append(name)
        self._sorter = TopologicalSorter(self._upstream)
        self._sorter.prepare()
        self._open = set(self._upstream)  # neither finished nor withdrawn

    def take_ready(self) -> list[str]:
        """Tasks that became ready since the last call, sorted by name for determinism."""
        return sorted(name for name in self._sorter.get_ready() if name in self._open)

    def succeeded(self, name: str) -> None:
        """``name`` is done and satisfies its children (ran, or was skipped)."""
        self._open.discard(name)
        self._sorter.done(name)

    def failed(self, name: str) -> list[str]:
        """``name`` failed for good: withdraw and return its open descendants (sorted)."""
        self._open.discard(name)
        blocked, todo = [], list(self._children[name])
        while todo:
            child = todo.pop()
            if child in self._open:
                self._open.discard(child)
                blocked.append(child)
                todo.extend(self._children[child])
        return sorted(blocked)

    def withdraw_all(self) -> list[str]:
        """Withdraw every task not finished yet (fail-fast, cancel); returns them sorted."""
        left = sorted(self._open)
        self._open.clear()
        return left
