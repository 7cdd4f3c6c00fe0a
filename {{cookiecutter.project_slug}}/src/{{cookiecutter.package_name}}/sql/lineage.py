"""Table lineage: which tables a task read and wrote while it ran.

The engine opens ``recording()`` around a task; every ``Session`` the task uses (injected or
made by the task itself) notes the tables it reads by name, on the same thread. The run ledger
stores the result in ``task_tables``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from ..db.ledger_rows import TableRow
from ..db.models import TableAccess
from .ddl import SHADOW_SUFFIXES

__all__ = ["TablesSeen", "note_read", "note_write", "recording", "written_table"]


@dataclass
class TablesSeen:
    """The tables one attempt read and wrote, by their published names."""

    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)

    def rows(self) -> list[TableRow]:
        """One ``task_tables`` row per table and access, sorted for a stable ledger."""
        return [
            *(TableRow(table_name=t, access=TableAccess.READ) for t in sorted(self.reads)),
            *(TableRow(table_name=t, access=TableAccess.WRITE) for t in sorted(self.writes)),
        ]


_current: ContextVar[TablesSeen | None] = ContextVar("pipeline_tables_seen", default=None)


@contextmanager
def recording(seen: TablesSeen) -> Iterator[TablesSeen]:
    """Note in ``seen`` every table read by name on this thread until the block ends."""
    token = _current.set(seen)
    try:
        yield seen
    finally:
        _current.reset(token)


def note_read(name: str) -> None:
    """A table (or view) was read by name; a shadow copy counts as the table it stands for."""
    seen = _current.get()
    if seen is not None:
        seen.reads.add(published_name(name))


def note_write(name: str) -> None:
    """A table was written by name (e.g. loaded by ``Session.create_dataframe``)."""
    seen = _current.get()
    if seen is not None:
        seen.writes.add(published_name(name))


def published_name(name: str) -> str:
    """``orders__pl_stage`` -> ``orders``: the table a shadow copy will become."""
    for suffix in SHADOW_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def written_table(result: object, task_name: str) -> str | None:
    """The table a task's returned value is stored in: a DataFrame is materialized under the
    task's name; an ingest report names its model's table."""
    if result is None:
        return None
    from .dataframe import DataFrame

    if isinstance(result, DataFrame):
        return task_name
    table = getattr(result, "table", None)
    return table if isinstance(table, str) else None
