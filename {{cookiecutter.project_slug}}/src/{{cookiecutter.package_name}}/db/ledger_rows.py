"""The shapes of the rows a run hands to the ledger's writer, one TypedDict per kind of row.

The engine builds them (an attempt's times, rows, checks and tables), the writer stores them;
typed here so that a misspelt or missing column is found before a run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Required, TypedDict

__all__ = ["AttemptFields", "CheckRow", "TableRow", "TaskRowFields", "TaskRowState"]


class CheckRow(TypedDict, total=False):
    """One data-check result of an attempt, as ``check_results`` stores it."""

    name: Required[str]
    severity: Required[str]
    status: Required[str]
    failing_rows: int
    sample: str | None


class TableRow(TypedDict):
    """One table an attempt read or wrote, as ``task_tables`` stores it."""

    table_name: str
    access: str


class AttemptFields(TypedDict, total=False):
    """What an attempt measured: its times, rows, output fingerprint, checks and tables."""

    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    rows_affected: int | None
    output_fingerprint: str | None
    checks: list[CheckRow]
    tables: list[TableRow]


class TaskRowFields(AttemptFields, total=False):
    """The columns one state of an attempt may set, besides its key and status."""

    reason: str | None
    error: str | None


class TaskRowState(TaskRowFields, total=False):
    """The state of one attempt as the run reports it; keys left out keep their stored value."""

    task: Required[str]
    attempt: Required[int]
    status: Required[str]
    fingerprint: str | None
