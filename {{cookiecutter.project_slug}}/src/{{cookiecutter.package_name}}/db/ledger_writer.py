"""The run ledger's writer of task rows: a background thread with group commit.

Task rows go through ``LedgerWriter``, which commits whatever has queued up in one transaction:
a thousand tiny tasks cost a handful of commits, never one each, and the run never waits for the
disk. It also keeps ``task_latest`` (each task's last execution and last success) current and
writes each attempt's data checks and lineage (the tables it read and wrote).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import cast

from sqlalchemy import Connection, Engine, Insert, Update, bindparam, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from ..errors import DatabaseError
from ..status import TaskState
from ..system import utcnow
from .ledger_batches import prepared
from .ledger_rows import AttemptFields, CheckRow, TableRow, TaskRowState
from .models import CHECKS, LATEST, RUNS, TABLES, TASKS

__all__ = ["AttemptFields", "CheckRow", "LedgerWriter", "TableRow", "TaskRowState"]

_log = logging.getLogger("pipeline.ledger")


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
        self._pending: deque[TaskRowState | threading.Event | object] = deque()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._inserted: set[tuple[str, int]] = set()
        self._lineage: set[tuple[str, int]] = set()  # attempts whose tables are written
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="ledger-writer", daemon=True)
        self._thread.start()

    def put(self, row: TaskRowState) -> None:
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
        self._closed.set()
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
                # Let a burst of small tasks join this batch; close() cuts it short, so the
                # end of a run never waits for a linger.
                self._closed.wait(self.linger_s)
            self._wake.clear()
            batch = []
            while self._pending:
                batch.append(self._pending.popleft())
            stopping = any(item is self._STOP for item in batch)
            # The only dicts queued are TaskRowStates (``write``).
            rows = cast(list[TaskRowState], [item for item in batch if isinstance(item, dict)])
            if rows:
                self._safely(functools.partial(self._write_retrying, rows))
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
            if time.monotonic() - last_beat >= self.heartbeat_s:
                self._safely(self._heartbeat)
                last_beat = time.monotonic()

    def _safely(self, action: Callable[[], None]) -> None:
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

    def _write_retrying(self, rows: Sequence[TaskRowState]) -> None:
        """Write a batch; if the database was unreachable or busy, try again on a fresh
        connection for up to ``retry_for_s``. A failed transaction rolled back, unless only the
        reply to its COMMIT was lost: each try first looks whether the batch is there."""
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
                "run ledger write failed, trying again: %s",
                state.outcome.exception() if state.outcome else None,
            ),
            reraise=True,
        )
        latest = _last_states(rows)
        for attempt in retrying:
            with attempt:
                if self._landed(latest):
                    self._written(latest, rows)
                else:
                    self._write(rows)

    def _landed(self, latest: Mapping[tuple[str, int], TaskRowState]) -> bool:
        """Whether the batch's commit went through: each attempt it holds is recorded in the
        state the batch leaves it in (status, and whether it has finished)."""
        with self.engine.connect() as conn:
            stored = {
                (row.task, row.attempt): (row.status, row.finished_at is None)
                for row in conn.execute(
                    select(TASKS.c.task, TASKS.c.attempt, TASKS.c.status, TASKS.c.finished_at)
                    .where(TASKS.c.run_id == self.run_id)
                    .where(TASKS.c.task.in_({task for task, _ in latest}))
                )
            }
        return all(
            stored.get(key) == (row["status"], row.get("finished_at") is None)
            for key, row in latest.items()
        )

    def _written(
        self, latest: Mapping[tuple[str, int], TaskRowState], rows: Sequence[TaskRowState]
    ) -> None:
        """Note a committed batch (``latest``: its attempts' last states): later states of
        its attempts update their rows."""
        self._inserted.update(latest)
        self._lineage.update(key for key, row in latest.items() if row.get("tables"))
        if self._known is not None:
            self._known.update(row["task"] for row in _executions(rows))

    def _write(self, rows: Sequence[TaskRowState]) -> None:
        latest = _last_states(rows)
        inserts = [r for k, r in latest.items() if k not in self._inserted]
        updates = [r for k, r in latest.items() if k in self._inserted]
        with self.engine.begin() as conn:
            self._many(conn, _INSERT, [_columns(r, self.run_id) for r in inserts])
            self._many(conn, _UPDATE, [_update_params(r, self.run_id) for r in updates])
            self._write_checks(conn, [r for r in latest.values() if r.get("checks")])
            lineage = {
                k: r for k, r in latest.items() if r.get("tables") and k not in self._lineage
            }
            self._write_tables(conn, lineage.values())
            self._write_latest(conn, rows)
        self._written(latest, rows)

    def _write_latest(self, conn: Connection, rows: Sequence[TaskRowState]) -> None:
        """Keep ``task_latest`` current: the last execution and last success of each task."""
        changes: dict[str, dict[str, object]] = {}
        for row in _executions(rows):
            change = changes.setdefault(row["task"], {"task": row["task"]})
            change.update(
                last_run_id=self.run_id,
                last_status=row["status"],
                last_fingerprint=row.get("fingerprint"),
                last_at=row.get("finished_at") or row["started_at"],
            )
            if row["status"] == TaskState.SUCCESS:
                change.update(
                    success_run_id=self.run_id,
                    success_at=row.get("finished_at"),
                    success_fingerprint=row.get("fingerprint"),
                    success_output=row.get("output_fingerprint"),
                )
        if not changes:
            return
        if self._known is None:
            self._known = set(conn.scalars(select(LATEST.c.task)))
        existing = self._known
        new = [c for task, c in changes.items() if task not in existing]
        self._many(conn, _LATEST_INSERT, new)
        old = [c for task, c in changes.items() if task in existing]
        for keys, group in _by_keys(old):
            self._many(
                conn,
                _latest_update(keys),
                [{"b_task": c["task"], **{f"v_{k}": c[k] for k in keys}} for c in group],
            )

    def _many(
        self, conn: Connection, statement: Insert | Update, rows: list[dict[str, object]]
    ) -> None:
        """Run ``statement`` for ``rows`` as one executemany (compiled once per dialect)."""
        if rows:
            prepared(statement, conn.dialect, _INSERT_KEYS.get(statement)).run(conn, rows)

    def _task_run_id(self, conn: Connection, row: TaskRowState) -> int | None:
        return conn.scalar(
            select(TASKS.c.id).where(
                TASKS.c.run_id == self.run_id,
                TASKS.c.task == row["task"],
                TASKS.c.attempt == row["attempt"],
            )
        )

    def _write_tables(self, conn: Connection, rows: Iterable[TaskRowState]) -> None:
        """Lineage, once per attempt (a staged task reports it again when its stage ends)."""
        for row in rows:
            task_run_id = self._task_run_id(conn, row)
            conn.execute(
                TABLES.insert(),
                [{**_clipped_table(t), "task_run_id": task_run_id} for t in row["tables"]],
            )

    def _write_checks(self, conn: Connection, rows: Iterable[TaskRowState]) -> None:
        for row in rows:
            task_run_id = self._task_run_id(conn, row)
            checked_at = row.get("finished_at") or utcnow()
            conn.execute(
                CHECKS.insert(),
                [
                    {**c, "task_run_id": task_run_id, "checked_at": checked_at}
                    for c in row["checks"]
                ],
            )


def _last_states(rows: Sequence[TaskRowState]) -> dict[tuple[str, int], TaskRowState]:
    """Each attempt's state after the batch: several states of one attempt merge, the last
    winning."""
    latest: dict[tuple[str, int], TaskRowState] = {}
    for row in rows:
        key = (row["task"], row["attempt"])
        latest[key] = {**latest[key], **row} if key in latest else row
    return latest


def _executions(rows: Sequence[TaskRowState]) -> list[TaskRowState]:
    """The rows that are executions (``task_latest`` keeps those): not skips, not rows of
    tasks that never started."""
    return [r for r in rows if r.get("started_at") is not None and r["status"] != TaskState.SKIPPED]


@functools.cache
def _latest_update(keys: tuple[str, ...]) -> Update:
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


def _by_keys(
    changes: Iterable[dict[str, object]],
) -> list[tuple[tuple[str, ...], list[dict[str, object]]]]:
    """Group changes by the columns they set, so each group is one executemany."""
    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
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
_INSERT = TASKS.insert()
_LATEST_INSERT = LATEST.insert()
# The columns each insert sets (the others take their defaults: the id, the attempt's 1).
_INSERT_KEYS: dict[Insert | Update, tuple[str, ...]] = {
    _INSERT: ("run_id", "task", "attempt", *_FIELDS),
    _LATEST_INSERT: tuple(column.name for column in LATEST.columns),
}
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


def _clip(name: str, value: object) -> object:
    limit = _LIMITS.get(name)
    if limit is None or not isinstance(value, str) or len(value) <= limit:
        return value
    return value[: limit - 15] + " ...[truncated]"


def _clipped_table(row: TableRow) -> dict[str, str]:
    return {"table_name": row["table_name"][:255], "access": row["access"]}


def _columns(row: Mapping[str, object], run_id: str) -> dict[str, object]:
    values = {name: _clip(name, row.get(name)) for name in _FIELDS}
    return {"run_id": run_id, "task": row["task"], "attempt": row["attempt"], **values}


def _update_params(row: Mapping[str, object], run_id: str) -> dict[str, object]:
    params = {f"v_{name}": _clip(name, row.get(name)) for name in _FIELDS}
    return {"b_run_id": run_id, "b_task": row["task"], "b_attempt": row["attempt"], **params}
