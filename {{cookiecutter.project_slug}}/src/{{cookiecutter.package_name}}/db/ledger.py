"""The run ledger: reads and writes of ``pipeline_runs``, ``task_runs`` and ``check_results``.

Run-level writes are synchronous. Task rows go through ``LedgerWriter``, a background thread
that commits whatever has queued up in one transaction (group commit): a slow task's row is
written at once, a burst of tiny tasks costs one commit per burst, never one per task.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, bindparam, func, select, update

from ..errors import DatabaseError
from .models import CheckResult, PipelineRun, TaskRun

__all__ = ["Ledger", "LedgerWriter", "TaskHistory"]

RUNS, TASKS, CHECKS = PipelineRun.__table__, TaskRun.__table__, CheckResult.__table__
_log = logging.getLogger("pipeline.ledger")


@dataclass(frozen=True)
class TaskHistory:
    """What the ledger knows of a task before a run: its last execution and last success."""

    last_status: str | None = None
    last_fingerprint: str | None = None
    success_id: int | None = None
    success_at: datetime | None = None
    success_fingerprint: str | None = None
    success_output: str | None = None


class Ledger:
    """Synchronous reads and run-level writes on one engine."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def start_run(self, run: dict[str, Any]) -> None:
        """Insert the ``pipeline_runs`` row of a run that is starting."""
        with self.engine.begin() as conn:
            conn.execute(RUNS.insert(), [run])

    def finish_run(self, run_id: str, status: str, finished_at: datetime) -> None:
        """Close a run: its final status and end time."""
        with self.engine.begin() as conn:
            conn.execute(
                RUNS.update()
                .where(RUNS.c.id == run_id)
                .values(status=status, finished_at=finished_at, heartbeat_at=finished_at)
            )

    def open_run(self, run: dict[str, Any], now: datetime) -> list[str]:
        """Mark runs left 'running' by dead processes crashed, then insert ``run``; one commit.

        Call it only while holding the run lock: then no other run can be alive.
        """
        with self.engine.begin() as conn:
            crashed = self._mark_crashed(conn, now, keep=run["id"])
            conn.execute(RUNS.insert(), [run])
        return crashed

    def mark_crashed(self, now: datetime, keep: str | None = None) -> list[str]:
        """Runs still 'running' (their process died): mark them and their open rows crashed."""
        with self.engine.begin() as conn:
            return self._mark_crashed(conn, now, keep)

    @staticmethod
    def _mark_crashed(conn: Any, now: datetime, keep: str | None) -> list[str]:
        query = select(RUNS.c.id).where(RUNS.c.status == "running")
        if keep is not None:
            query = query.where(RUNS.c.id != keep)
        ids = list(conn.scalars(query))
        if not ids:
            return []
        ended = func.coalesce(RUNS.c.heartbeat_at, RUNS.c.started_at)
        conn.execute(
            RUNS.update().where(RUNS.c.id.in_(ids)).values(status="crashed", finished_at=ended)
        )
        conn.execute(
            TASKS.update()
            .where(TASKS.c.run_id.in_(ids), TASKS.c.status.in_(("running", "pending")))
            .values(status="crashed", finished_at=now, reason="the run's process died")
        )
        return ids

    def close_open_rows(self, run_id: str, now: datetime) -> None:
        """Mark a run's rows still 'running' as crashed (the run loop itself failed)."""
        with self.engine.begin() as conn:
            conn.execute(
                TASKS.update()
                .where(TASKS.c.run_id == run_id, TASKS.c.status == "running")
                .values(status="crashed", finished_at=now, reason="the run stopped unexpectedly")
            )

    def history(self) -> dict[str, TaskHistory]:
        """Per task: the last execution (skips excluded) and the last success."""
        executed = and_(TASKS.c.started_at.is_not(None), TASKS.c.status != "skipped")
        last_ids = select(func.max(TASKS.c.id)).where(executed).group_by(TASKS.c.task)
        success_ids = (
            select(func.max(TASKS.c.id)).where(TASKS.c.status == "success").group_by(TASKS.c.task)
        )
        cols = (
            TASKS.c.id,
            TASKS.c.task,
            TASKS.c.status,
            TASKS.c.fingerprint,
            TASKS.c.finished_at,
            TASKS.c.output_fingerprint,
        )
        with self.engine.connect() as conn:
            last = {r.task: r for r in conn.execute(select(*cols).where(TASKS.c.id.in_(last_ids)))}
            good = {
                r.task: r for r in conn.execute(select(*cols).where(TASKS.c.id.in_(success_ids)))
            }
        return {name: _history(last.get(name), good.get(name)) for name in {*last, *good}}

    def last_run(self, exclude: str | None = None) -> Any:
        """The most recent run (a row), or None."""
        query = select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(1)
        if exclude:
            query = query.where(RUNS.c.id != exclude)
        with self.engine.connect() as conn:
            return conn.execute(query).first()

    def get_run(self, run_id: str) -> Any:
        """One run (a row), or None."""
        with self.engine.connect() as conn:
            return conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()

    def runs(self, limit: int = 20) -> list[Any]:
        """The most recent runs, newest first."""
        query = select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def task_rows(self, run_id: str) -> list[Any]:
        """Every attempt row of a run, in the order they were recorded."""
        query = select(TASKS).where(TASKS.c.run_id == run_id).order_by(TASKS.c.id)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def check_rows(self, run_id: str) -> list[Any]:
        """Every data-check result of a run, with the task it belongs to."""
        query = (
            select(CHECKS, TASKS.c.task, TASKS.c.attempt)
            .join(TASKS, TASKS.c.id == CHECKS.c.task_run_id)
            .where(TASKS.c.run_id == run_id)
            .order_by(CHECKS.c.id)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def final_states(self, run_id: str) -> dict[str, str]:
        """Each task's state in a run: the status of its last attempt."""
        return {row.task: row.status for row in self.task_rows(run_id)}

    def last_statuses(self) -> dict[str, str]:
        """Each task's most recent status over all runs."""
        latest = select(func.max(TASKS.c.id)).group_by(TASKS.c.task)
        query = select(TASKS.c.task, TASKS.c.status).where(TASKS.c.id.in_(latest))
        with self.engine.connect() as conn:
            return {row.task: row.status for row in conn.execute(query)}


def _history(last: Any, good: Any) -> TaskHistory:
    return TaskHistory(
        last_status=last.status if last else None,
        last_fingerprint=last.fingerprint if last else None,
        success_id=good.id if good else None,
        success_at=good.finished_at if good else None,
        success_fingerprint=good.fingerprint if good else None,
        success_output=good.output_fingerprint if good else None,
    )


def selection_json(**fields: Any) -> str:
    """The ``selection`` column: what was asked, as stable JSON."""
    return json.dumps(fields, sort_keys=True, default=str)


class LedgerWriter:
    """Writes task rows from a background thread, one transaction per batch.

    ``put(row)`` queues the latest state of an attempt (keyed by task and attempt): the first
    time a key is seen it is inserted, later states update it. The thread wakes every
    ``interval_s`` (or on ``flush``/``close``) and commits everything queued since, so queuing
    a row never costs the run a thread switch. ``close()`` drains and stops.
    """

    _STOP = object()

    def __init__(
        self, engine: Engine, run_id: str, heartbeat_s: float = 5.0, interval_s: float = 0.05
    ):
        self.engine, self.run_id = engine, run_id
        self.heartbeat_s, self.interval_s = heartbeat_s, interval_s
        self._pending: deque[Any] = deque()
        self._wake = threading.Event()
        self._inserted: set[tuple[str, int]] = set()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="ledger-writer", daemon=True)
        self._thread.start()

    def put(self, row: dict[str, Any]) -> None:
        """Queue an attempt's current state (``checks`` may hold check-result dicts)."""
        self._pending.append(row)

    def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        done = threading.Event()
        self._pending.append(done)
        self._wake.set()
        while not done.wait(0.5):
            if not self._thread.is_alive():
                break
        self._raise()

    def close(self) -> None:
        """Write everything queued, then stop the thread."""
        self._pending.append(self._STOP)
        self._wake.set()
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise DatabaseError(f"could not write the run ledger: {self._error}") from self._error

    def _loop(self) -> None:
        last_beat = time.monotonic()
        stopping = False
        while not stopping:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            batch = []
            while self._pending:
                batch.append(self._pending.popleft())
            stopping = any(item is self._STOP for item in batch)
            rows = [item for item in batch if isinstance(item, dict)]
            if rows:
                self._safely(lambda: self._write(rows))
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
            if time.monotonic() - last_beat >= self.heartbeat_s:
                self._safely(self._heartbeat)
                last_beat = time.monotonic()

    def _safely(self, action: Any) -> None:
        try:
            action()
        except Exception as exc:  # reported by flush()/close() on the run's thread
            _log.error("run ledger write failed: %s", exc)
            self._error = exc

    def _heartbeat(self) -> None:
        from ..core.attempt import utcnow

        with self.engine.begin() as conn:
            conn.execute(
                RUNS.update().where(RUNS.c.id == self.run_id).values(heartbeat_at=utcnow())
            )

    def _write(self, rows: Sequence[dict[str, Any]]) -> None:
        latest: dict[tuple[str, int], dict[str, Any]] = {}
        for row in rows:  # several states of one attempt in a batch: only the last counts
            latest[(row["task"], row["attempt"])] = {
                **latest.get((row["task"], row["attempt"]), {}),
                **row,
            }
        inserts = [r for k, r in latest.items() if k not in self._inserted]
        updates = [r for k, r in latest.items() if k in self._inserted]
        with self.engine.begin() as conn:
            if inserts:
                conn.execute(TASKS.insert(), [_columns(r, self.run_id) for r in inserts])
            if updates:
                conn.execute(_UPDATE, [_update_params(r, self.run_id) for r in updates])
            self._write_checks(conn, [r for r in latest.values() if r.get("checks")])
        self._inserted.update(k for k in latest)

    def _write_checks(self, conn: Any, rows: Iterable[dict[str, Any]]) -> None:
        from ..core.attempt import utcnow

        for row in rows:
            task_run_id = conn.scalar(
                select(TASKS.c.id).where(
                    TASKS.c.run_id == self.run_id,
                    TASKS.c.task == row["task"],
                    TASKS.c.attempt == row["attempt"],
                )
            )
            checked_at = row.get("finished_at") or utcnow()
            conn.execute(
                CHECKS.insert(),
                [
                    {**c, "task_run_id": task_run_id, "checked_at": checked_at}
                    for c in row["checks"]
                ],
            )


_FIELDS = (
    "status",
    "reason",
    "started_at",
    "finished_at",
    "duration_ms",
    "error",
    "fingerprint",
    "output_fingerprint",
    "rows_affected",
)
_UPDATE = (
    update(TASKS)
    .where(
        TASKS.c.run_id == bindparam("b_run_id"),
        TASKS.c.task == bindparam("b_task"),
        TASKS.c.attempt == bindparam("b_attempt"),
    )
    .values({name: bindparam(f"v_{name}") for name in _FIELDS})
)


# Longest text kept per column: MySQL's TEXT holds 64 KiB, and a traceback can be longer.
_LIMITS = {"reason": 255, "error": 60_000, "fingerprint": 64, "output_fingerprint": 64}


def _clip(name: str, value: Any) -> Any:
    limit = _LIMITS.get(name)
    if limit is None or not isinstance(value, str) or len(value) <= limit:
        return value
    return value[: limit - 15] + " ...[truncated]"


def _columns(row: dict[str, Any], run_id: str) -> dict[str, Any]:
    values = {name: _clip(name, row.get(name)) for name in _FIELDS}
    return {"run_id": run_id, "task": row["task"], "attempt": row["attempt"], **values}


def _update_params(row: dict[str, Any], run_id: str) -> dict[str, Any]:
    params = {f"v_{name}": _clip(name, row.get(name)) for name in _FIELDS}
    return {"b_run_id": run_id, "b_task": row["task"], "b_attempt": row["attempt"], **params}
