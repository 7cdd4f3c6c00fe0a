"""Undeclared reads: a task that reads a table another task writes, without depending on it.

Such a task may run before the writer, or read its table half-way through a rebuild. Who writes
a table: every task materializes under its own name, and the ledger remembers the tables each
task wrote in its latest success (an ingest writes its model's table). The run warns, or with
``run --strict`` fails the task before it publishes anything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from .dag import Dag

__all__ = ["undeclared_reads", "writers_of"]


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
    """The warning for the tables ``task`` read that a task outside ``allowed`` (itself and
    its ancestors) writes, or None."""
    found = sorted((t, writers[t]) for t in set(reads) if writers.get(t, task) not in allowed)
    if not found:
        return None
    return "; ".join(
        f"{task} reads {table}, which task {writer} writes, but does not depend on it: "
        f"add depends_on=[{writer}]"
        for table, writer in found
    )
