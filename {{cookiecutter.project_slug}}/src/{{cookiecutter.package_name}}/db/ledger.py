"""The run ledger: reads and writes of ``pipeline_runs``, ``task_runs`` and ``check_results``.

Run-level writes are synchronous. Task rows go through ``LedgerWriter``, a background thread
that commits whatever has queued up in one transaction (group commit): a thousand tiny tasks
cost a handful of commits, never one each, and the run never waits for the disk.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, and_, bindparam, func, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from ..errors import DatabaseError
from ..system import utcnow
from .models import CheckResult, PipelineRun, TaskLatest, TaskRun

__all__ = ["Ledger", "LedgerWriter", "TaskHistory"]

RUNS, TASKS, CHECKS = PipelineRun.__table__, TaskRun.__table__, CheckResult.__table__
LATEST = TaskLatest.__table__
_log = logging.getLogger("pipeline.ledger")


class TaskHistory(NamedTuple):
    """What the ledger knows of a task before a run: its last execution and last success."""

    last_status: str | None = None
    last_fingerprint: str | None = None
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
        _latest_crashed(conn, ids)
        return ids

    def close_open_rows(self, run_id: str, now: datetime) -> None:
        """Mark a run's rows still 'running' as crashed (the run loop itself failed)."""
        with self.engine.begin() as conn:
            conn.execute(
                TASKS.update()
                .where(TASKS.c.run_id == run_id, TASKS.c.status == "running")
                .values(status="crashed", finished_at=now, reason="the run stopped unexpectedly")
            )
            _latest_crashed(conn, [run_id])

    def history(self) -> dict[str, TaskHistory]:
        """Per task: the last execution (skips excluded) and the last success."""
        columns = (LATEST.c.task, *(LATEST.c[name] for name in TaskHistory._fields))
        with self.engine.connect() as conn:
            rows = list(conn.execute(select(*columns)))
        return {row.task: TaskHistory(*row[1:]) for row in rows}

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


def _latest_crashed(conn: Any, run_ids: list[str]) -> None:
    """Tasks whose attempt died with its run: their latest execution is now 'crashed'."""
    crashed = select(TASKS.c.task).where(TASKS.c.run_id.in_(run_ids), TASKS.c.status == "crashed")
    conn.execute(LATEST.update().where(LATEST.c.task.in_(crashed)).values(last_status="crashed"))


def selection_json(**fields: Any) -> str:
    """The ``selection`` column: what was asked, as stable JSON."""
    return json.dumps(fields, sort_keys=True, default=str)


class LedgerWriter:
    """Writes task rows from a background thread, one transaction per batch.

    ``put(row)`` queues the latest state of an attempt (keyed by task and attempt): the first
    time a key is seen it is inserted, later states update it. The thread commits everything
    queued while it was writing the previous batch in one transaction, so the rows of a burst
    of small tasks share a commit, while a lone row is written within milliseconds. A batch
    the database refuses for a moment (busy, a dropped connection) is written again for up to
    ``retry_for_s``. ``close()`` drains and stops.
    """

    _STOP = object()

    def __init__(
        self,
        engine: Engine,
        run_id: str,
        heartbeat_s: float = 5.0,
        interval_s: float = 1.0,
        linger_s: float = 0.005,
        retry_for_s: float = 30.0,
    ):
        self.engine, self.run_id = engine, run_id
        self.heartbeat_s, self.interval_s, self.linger_s = heartbeat_s, interval_s, linger_s
        self.retry_for_s = retry_for_s
        self._known: set[str] | None = None  # tasks that have a task_latest row
        self._closing = False
        self._pending: deque[Any] = deque()
        self._wake = threading.Event()
        self._inserted: set[tuple[str, int]] = set()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="ledger-writer", daemon=True)
        self._thread.start()

    def put(self, row: dict[str, Any]) -> None:
        """Queue an attempt's current state (``checks`` may hold check-result dicts)."""
        self._pending.append(row)
        if not self._wake.is_set():
            self._wake.set()  # write soon: a kill right after a success must not lose it

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
        self._closing = True
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
            if self._wake.wait(self.interval_s) and self.linger_s and not self._closing:
                time.sleep(self.linger_s)  # let a burst of small tasks join this batch
            self._wake.clear()
            batch = []
            while self._pending:
                batch.append(self._pending.popleft())
            stopping = any(item is self._STOP for item in batch)
            rows = [item for item in batch if isinstance(item, dict)]
            if rows:
                self._safely(lambda: self._write_retrying(rows))
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
        with self.engine.begin() as conn:
            conn.execute(
                RUNS.update().where(RUNS.c.id == self.run_id).values(heartbeat_at=utcnow())
            )

    def _write_retrying(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write a batch; if the database was unreachable or busy, try again on a fresh
        connection for up to ``retry_for_s``: the failed transaction rolled back, so no row is
        written twice."""
        try:
            self._write(rows)
            return
        except DBAPIError as exc:
            if not _transient(exc):
                raise
            _log.warning("run ledger write failed, trying again: %s", exc)
        import tenacity  # only a failed write pays for the import (~0.1 s)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_transient),
            wait=tenacity.wait_exponential(multiplier=0.1, max=2.0),
            stop=tenacity.stop_after_delay(self.retry_for_s),
            before_sleep=lambda state: _log.warning(
                "run ledger write failed, trying again: %s", state.outcome.exception()
            ),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self._write(rows)

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
            recorded = self._write_latest(conn, rows)
        self._inserted.update(k for k in latest)  # committed: later states of these update
        if self._known is not None:
            self._known.update(recorded)

    def _write_latest(self, conn: Any, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Keep ``task_latest`` current: the last execution and last success of each task.

        Returns the tasks it wrote, which have a row once the transaction commits."""
        changes: dict[str, dict[str, Any]] = {}
        for row in rows:
            if row.get("started_at") is None or row["status"] == "skipped":
                continue  # skips and never-started rows are not executions
            change = changes.setdefault(row["task"], {"task": row["task"]})
            change.update(
                last_run_id=self.run_id,
                last_status=row["status"],
                last_fingerprint=row.get("fingerprint"),
                last_at=row.get("finished_at") or row["started_at"],
            )
            if row["status"] == "success":
                change.update(
                    success_run_id=self.run_id,
                    success_at=row.get("finished_at"),
                    success_fingerprint=row.get("fingerprint"),
                    success_output=row.get("output_fingerprint"),
                )
        if not changes:
            return set()
        if self._known is None:
            self._known = set(conn.scalars(select(LATEST.c.task)))
        existing = self._known
        new = [c for task, c in changes.items() if task not in existing]
        if new:
            conn.execute(
                LATEST.insert(), [{c.name: n.get(c.name) for c in LATEST.columns} for n in new]
            )
        old = [c for task, c in changes.items() if task in existing]
        for keys, group in _by_keys(old):
            conn.execute(
                _latest_update(keys),
                [{"b_task": c["task"], **{f"v_{k}": c[k] for k in keys}} for c in group],
            )
        return set(changes)

    def _write_checks(self, conn: Any, rows: Iterable[dict[str, Any]]) -> None:
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


@functools.cache
def _latest_update(keys: tuple[str, ...]) -> Any:
    """The ``task_latest`` update setting ``keys``, built once (a batch runs it per group)."""
    return (
        LATEST.update()
        .where(LATEST.c.task == bindparam("b_task"))
        .values({key: bindparam(f"v_{key}") for key in keys})
    )


def _transient(exc: BaseException) -> bool:
    """A failure that a later try may not meet: a lost connection, a busy or restarting server."""
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, OperationalError)
    )


def _by_keys(changes: Iterable[dict[str, Any]]) -> list[tuple[tuple[str, ...], list[dict]]]:
    """Group changes by the columns they set, so each group is one executemany."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        keys = tuple(sorted(k for k in change if k != "task"))
        groups.setdefault(keys, []).append(change)
    return list(groups.items())


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
