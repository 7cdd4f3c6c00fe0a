"""Retention of the run ledger: ``runs prune --older-than 90d`` deletes old finished runs with
every row they wrote (task attempts, data checks, lineage).

It deletes in batches of whole runs, one short transaction each: a killed prune leaves every
run either whole or gone (never a task row without its run, nor a check without its task row)
and the next prune carries on. It never deletes a run still running, the newest run (``--resume``
and ``show-run last`` read it), or a run ``task_latest`` points at: each task's latest
execution and latest success, which the cache, ``list`` and lineage read, so a cached re-run
stays cached however much history is pruned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import CompoundSelect, Connection, Engine, func, select, union

from ..errors import PipelineError
from ..faults import crash_point
from ..status import RunState
from .models import CHECKS, LATEST, RUNS, TABLES, TASKS

__all__ = ["BadAgeError", "PruneCount", "parse_age", "prunable_runs", "prune_runs"]

_AGE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_IN_CHUNK = 900  # ids per IN list: under SQLite's oldest limit of 999 bound parameters


class BadAgeError(PipelineError):
    """``--older-than`` is not an age the command understands."""

    exit_code = 2

    def __init__(self, text: str):
        self.text = text
        super().__init__(
            f"--older-than {text!r} is not an age: write a whole number and a unit, m (minutes), "
            "h (hours), d (days) or w (weeks), e.g. `runs prune --older-than 90d`; add "
            "--dry-run to see what it would delete first"
        )


def parse_age(text: str) -> timedelta:
    """``90d``, ``12h``, ``30m``, ``2w`` as a timedelta; ``BadAgeError`` otherwise (zero too:
    pruning everything up to now is never what was meant)."""
    match = _AGE.match(text)
    if match is None or int(match.group(1)) == 0:
        raise BadAgeError(text)
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass
class PruneCount:
    """Rows deleted (or, in a dry run, that would be) per ledger table."""

    runs: int = 0
    task_runs: int = 0
    check_results: int = 0
    task_tables: int = 0

    def add(self, other: PruneCount) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


def _kept_runs() -> CompoundSelect[tuple[str]]:
    """Runs that are never pruned: those ``task_latest`` points at, and the newest run."""
    newest = select(RUNS.c.id).order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(1)
    return union(
        select(LATEST.c.last_run_id).where(LATEST.c.last_run_id.is_not(None)),
        select(LATEST.c.success_run_id).where(LATEST.c.success_run_id.is_not(None)),
        select(newest.subquery().c.id),
    )


def prunable_runs(conn: Connection, cutoff: datetime, limit: int | None = None) -> list[str]:
    """The ids of finished runs started before ``cutoff`` that may go, oldest first (on the
    ``(started_at, id)`` index; the kept runs are a few per task)."""
    kept = list(conn.scalars(_kept_runs()))
    query = (
        select(RUNS.c.id)
        .where(
            RUNS.c.started_at < cutoff,
            RUNS.c.status != RunState.RUNNING,
            RUNS.c.finished_at.is_not(None),
            RUNS.c.id.not_in(kept),
        )
        .order_by(RUNS.c.started_at, RUNS.c.id)
    )
    return list(conn.scalars(query if limit is None else query.limit(limit)))


def _attempts(conn: Connection, run_ids: list[str]) -> list[list[int]]:
    """The ids of these runs' task rows, in chunks short enough for any driver's IN list.

    Fetched first, so each delete below is a plain look-up on its ``task_run_id`` index:
    ``IN (SELECT ...)`` inside a ``DELETE`` is not turned into a join on every server.
    """
    ids = list(conn.scalars(select(TASKS.c.id).where(TASKS.c.run_id.in_(run_ids))))
    return [ids[start : start + _IN_CHUNK] for start in range(0, len(ids), _IN_CHUNK)]


def _count(conn: Connection, run_ids: list[str]) -> PruneCount:
    count = PruneCount(runs=len(run_ids))
    for chunk in _attempts(conn, run_ids):
        count.task_runs += len(chunk)
        for table, name in ((CHECKS, "check_results"), (TABLES, "task_tables")):
            total = select(func.count()).where(table.c.task_run_id.in_(chunk))
            setattr(count, name, getattr(count, name) + (conn.scalar(total) or 0))
    return count


def _delete(conn: Connection, run_ids: list[str]) -> PruneCount:
    """Delete these runs and everything under them, children first."""
    count = PruneCount()
    for chunk in _attempts(conn, run_ids):
        for table, name in ((CHECKS, "check_results"), (TABLES, "task_tables")):
            deleted = conn.execute(table.delete().where(table.c.task_run_id.in_(chunk))).rowcount
            setattr(count, name, getattr(count, name) + deleted)
    crash_point("prune.children_deleted")
    count.task_runs = conn.execute(TASKS.delete().where(TASKS.c.run_id.in_(run_ids))).rowcount
    count.runs = conn.execute(RUNS.delete().where(RUNS.c.id.in_(run_ids))).rowcount
    return count


def prune_runs(
    engine: Engine, cutoff: datetime, *, dry_run: bool = False, batch: int = 100
) -> PruneCount:
    """Delete (with ``dry_run``, count) the prunable runs started before ``cutoff``, ``batch``
    runs per transaction."""
    total = PruneCount()
    if dry_run:
        with engine.connect() as conn:
            ids = prunable_runs(conn, cutoff)
            for start in range(0, len(ids), batch):
                total.add(_count(conn, ids[start : start + batch]))
        return total
    while True:
        with engine.begin() as conn:
            ids = prunable_runs(conn, cutoff, limit=batch)
            if ids:
                total.add(_delete(conn, ids))
        if len(ids) < batch:
            return total
        crash_point("prune.batch_committed")
