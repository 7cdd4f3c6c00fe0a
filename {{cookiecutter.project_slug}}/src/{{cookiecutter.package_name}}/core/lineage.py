"""Undeclared reads: a task that reads a table another task writes, without depending on it.

Such a task may run before the writer, or read its table half-way through a rebuild. Who writes
a table: every task materializes under its own name, and the ledger remembers the tables each
task wrote in its latest success (an ingest writes its model's table). The run warns, or with
``run --strict`` fails the task before it publishes anything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from .dag import Dag

__all__ = ["Ancestry", "undeclared_reads", "writers_of"]


class Ancestry(Collection[str]):
    """The ancestors of one task, walked only when first asked: most attempts read no table
    of another task, and walking every task's ancestors made a run quadratic (a 1,000-task
    chain spent most of its time there). Pickled (for another process), it is the plain
    ``frozenset``."""

    __slots__ = ("_dag", "_name", "_names")

    def __init__(self, dag: Dag, name: str):
        self._dag, self._name = dag, name
        self._names: frozenset[str] | None = None

    def _walked(self) -> frozenset[str]:
        if self._names is None:
            self._names = frozenset(self._dag.ancestors(self._name))
        return self._names

    def __contains__(self, name: object) -> bool:
        return name in self._walked()

    def __iter__(self) -> Iterator[str]:
        return iter(self._walked())

    def __len__(self) -> int:
        return len(self._walked())

    def __eq__(self, other: object) -> bool:
        # The same task of the same DAG is equal without a walk: the Dask executor compares the
        # call it submitted ahead with the engine's own to adopt it.
        if isinstance(other, Ancestry):
            same = self._dag is other._dag and self._name == other._name
            return same or self._walked() == other._walked()
        if isinstance(other, (set, frozenset)):
            return self._walked() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._walked())  # as the equal frozenset's

    def __reduce__(self) -> tuple[Any, ...]:
        return frozenset, (tuple(self._walked()),)


def writers_of(dag: Dag, recorded: Mapping[str, str]) -> dict[str, str]:
    """``{table: task}`` for the tasks of ``dag``: recorded writes, an ingest model's table,
    then each task's own name."""
    writers = {table: task for table, task in recorded.items() if task in dag}
    for name in dag.names:
        model = getattr(dag.tasks[name].func, "__wrapped__", None)  # an ingest model's task
        table = getattr(model, "__table__", None)
        if isinstance(table, str):
            writers[table] = name
    writers.update({name: name for name in dag.names})
    return writers


def undeclared_reads(
    task: str, reads: Iterable[str], writers: Mapping[str, str], allowed: Collection[str]
) -> str | None:
    """The warning for the tables ``task`` read that a task other than itself and outside
    ``allowed`` (its ancestors) writes, or None. ``allowed`` is only asked about tables that
    another task writes, so a lazy ``Ancestry`` is walked only then."""
    found = sorted(
        (table, writer)
        for table in set(reads)
        if (writer := writers.get(table, task)) != task and writer not in allowed
    )
    if not found:
        return None
    return "; ".join(
        f"{task} reads {table}, which task {writer} writes, but does not depend on it: "
        f"add depends_on=[{writer}]"
        for table, writer in found
    )
