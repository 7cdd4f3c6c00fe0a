"""What reading a raw object yields: batches of records as columns, and the records refused.

A problem with the whole object (no header, not a Parquet file...) is an :class:`ObjectProblem`
instead: the object fails, and nothing read from it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Batch", "ObjectProblem", "Refused"]


class ObjectProblem(Exception):
    """The whole object cannot be read; the message names what to fix."""


@dataclass(frozen=True)
class Refused:
    """A record that goes to the rejects table: where it was, which field, why."""

    record: int
    line: int | None
    field: str | None
    reason: str
    raw: str | None


@dataclass
class Batch:
    """Up to ``chunk_size`` records: good ones as columns, refused ones aside.

    ``plain`` is the CSV delimiter when the raws are the rows' lines as the file holds them,
    unquoted, with exactly the model's columns in field order: a bulk loader may then send
    the lines themselves (``plain_lines``). Their columns are split only when asked for."""

    _columns: list[Sequence[Any]]
    records: Sequence[int]  # record number (1-based) of each good row
    lines: Sequence[int | None]  # line (or row index) of each good row in the raw object
    raws: Sequence[Any]  # each good row as read, rendered only if it is rejected later
    refused: list[Refused] = field(default_factory=list)
    texts: bool = False  # every value is a string (CSV): fields need not check types
    plain: str | None = None
    split: Callable[[], list[Sequence[Any]]] | None = field(default=None, repr=False)

    @property
    def columns(self) -> list[Sequence[Any]]:
        """The good rows' values, a sequence per column."""
        if self.split is not None:
            self._columns, self.split = self.split(), None
        return self._columns

    @columns.setter
    def columns(self, value: list[Sequence[Any]]) -> None:
        self._columns, self.split = value, None

    @property
    def read(self) -> int:
        return len(self.records) + len(self.refused)
