"""The run loop: feed ready tasks to the executor, collect outcomes, retry, record.

Everything here happens on the run's own thread: workers only run ``run_attempt`` and report
back through a queue, so the ledger, the ready queue and the observer see one event at a time.
"""

from __future__ import annotations

import heapq
import math
import queue
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..db.ledger import LedgerWriter, TaskHistory
from ..faults import crash_point
from ..status import SATISFIED, RunState, TaskState
from ..system import utcnow
from .attempt import AttemptCall, AttemptOutcome, run_attempt
from .context import request_stop
from .dag import Dag
from .executors import Executor
from .interrupts import signals_call
from .planner import decide
from .report import RunObserver, RunReport
from .retry import backoff
from .scheduler import ReadyQueue

__all__ = ["Execution"]

INTERRUPTED = object()  # put on the outcome queue by Ctrl-C/SIGTERM to wake the loop
SIGNAL_POLL_S = 0.2  # the longest the loop waits without running pending signal handlers


@dataclass
class _Running:
    name: str
    attempt: int
    started_at: datetime
    timeout: float | None
    deadline: float | None = None  # set once the attempt is seen running


@dataclass(kw_only=True)
class Execution:
    """One run of the selected tasks of ``dag``; ``run()`` returns the report."""

    dag: Dag
    names: list[str]
    fingerprints: Mapping[str, str]
    history: Mapping[str, TaskHistory]
    config_of: Callable[[str], dict[str, Any]]
    run_id: str
    database_url: str
    executor: Executor
    workers: int
    writer: LedgerWriter
    observer: RunObserver
    now: datetime
    full_refresh: bool = False
    fail_fast: bool = False
    cancel_grace_s: float = 10.0
    stages: Any = None  # a sql.stages.StageRun when selected tasks belong to stages
    settings_path: str | None = None

    def __post_init__(self) -> None:
        selected = set(self.names)
        upstream = {n: [p for p in self.dag.upstream(n) if p in selected] for n in self.names}
        if self.stages is not None:
            upstream = self.stages.upstream(upstream)
            self.stages.record = self._stage_decided
        self.queue = ReadyQueue(upstream)
        self.ready: deque[str] = deque()
        self.running: dict[Future[Any], _Running] = {}
        self.retries: list[tuple[float, int, str, int]] = []
        self.done: queue.SimpleQueue[Any] = queue.SimpleQueue()  # futures, or INTERRUPTED
        self.produced: set[str] = set()
        self.reuse: dict[str, str | None] = {}
        self.stopping: str | None = None
        self.cancelled = False
        self.report = RunReport(self.run_id, RunState.RUNNING, started_at=utcnow())

    def run(self) -> RunReport:
        """Run to the end (or until cancelled) and return the report."""
        self.ready.extend(self.queue.take_ready())
        with signals_call(lambda: self.done.put(INTERRUPTED)):
            try:
                self._loop()
            except KeyboardInterrupt:
                self._cancel()
        if self.stages is not None:
            self.stages.abandon("the run ended before the stage was complete")
        self.report.status = self._final_status()
        self.report.finished_at = utcnow()
        return self.report

    def _loop(self) -> None:
        while True:
            self._launch()
            if not (self.running or self.ready or self.retries):
                return
            try:
                future: Future[Any] | None = self.done.get(timeout=self._wakeup())
            except queue.Empty:
                future = None
            while future is not None:
                if future is INTERRUPTED:
                    raise KeyboardInterrupt
                self._collect(future)
                try:
                    future = self.done.get_nowait()
                except queue.Empty:
                    future = None
            self._expire()

    def _launch(self) -> None:
        # One call queued behind each busy worker hides the hand-off between threads; with
        # --fail-fast nothing may wait in the queue, so a failure stops every later start.
        limit = self.workers if self.fail_fast else self.workers * 2
        while len(self.running) < limit and not self.stopping:
            if self.retries and self.retries[0][0] <= time.monotonic():
                _, _, name, attempt = heapq.heappop(self.retries)
                self._start(name, attempt)
            elif self.ready:
                self._consider(self.ready.popleft())
            else:
                return

    def _consider(self, name: str) -> None:
        decision = decide(
            self.dag.tasks[name],
            fingerprint=self.fingerprints[name],
            history=self.history,
            upstream=self.dag.upstream(name),
            produced=self.produced,
            now=self.now,
            full_refresh=self.full_refresh,
        )
        self.report.reasons[name] = decision.reason
        if not decision.run:
            self._record(name, 1, TaskState.SKIPPED, reason=decision.reason)
            self._satisfied(name)
            return
        past = self.history.get(name)
        self.reuse[name] = past.success_output if decision.reuse_output and past else None
        self._start(name, 1)

    def _start(self, name: str, attempt: int) -> None:
        task = self.dag.tasks[name]
        call = AttemptCall(
            task=task,
            run_id=self.run_id,
            attempt=attempt,
            config=self.config_of(name),
            database_url=self.database_url,
            previous_output=self.reuse.get(name),
            target=self.stages.target(name) if self.stages is not None else None,
            reads=self.stages.reads(name) if self.stages is not None else (),
            settings_path=self.settings_path,
        )
        crash_point("runner.before_attempt")
        started = utcnow()
        self._record(name, attempt, TaskState.RUNNING, started_at=started)
        self.report.attempts[name] = attempt
        self.observer.task_started(name, attempt)
        future = self.executor.submit(run_attempt, call)
        self.running[future] = _Running(name, attempt, started, task.timeout)
        future.add_done_callback(self.done.put)

    def _collect(self, future: Future[Any]) -> None:
        info = self.running.pop(future, None)
        if info is None:
            return  # an attempt that already timed out
        try:
            outcome = future.result()
        except BaseException as exc:  # the executor could not run the call at all
            outcome = _failed(info, f"{type(exc).__name__}: {exc}")
        self._finished(info, outcome)

    def _finished(self, info: _Running, outcome: AttemptOutcome) -> None:
        name, attempt = info.name, info.attempt
        row = {
            "started_at": outcome.started_at,
            "finished_at": outcome.finished_at,
            "duration_ms": outcome.duration_ms,
            "rows_affected": outcome.rows_affected,
            "output_fingerprint": outcome.output_fingerprint,
            "checks": outcome.checks,
        }
        if outcome.ok:
            reason = "query unchanged: kept the stored output" if outcome.reused else None
            if self.stages is not None and self.stages.stage_of(name):
                self._stage_built(name, attempt, reason, row)
            else:
                self._record(name, attempt, TaskState.SUCCESS, reason=reason, **row)
            crash_point("runner.after_success")
            if not outcome.reused:
                self.produced.add(name)
            self._satisfied(name)
            return
        if self.cancelled:
            reason = "stopped: the run was cancelled"
            self._record(
                name, attempt, TaskState.CANCELLED, reason=reason, error=outcome.error, **row
            )
            return
        task = self.dag.tasks[name]
        if attempt <= task.retry and not self.stopping:
            delay = backoff(task)(attempt)
            self.report.retry_delays.setdefault(name, []).append(delay)
            reason = f"retry {attempt}/{task.retry} in {delay:.2f} s"
            self._record(name, attempt, TaskState.FAILED, reason=reason, error=outcome.error, **row)
            entry = (time.monotonic() + delay, len(self.retries) + attempt, name, attempt + 1)
            heapq.heappush(self.retries, entry)
            return
        self._record(name, attempt, TaskState.FAILED, error=outcome.error, **row)
        self.report.errors[name] = outcome.error or ""
        self._blocked(name, f"'{name}' failed")

    def _blocked(self, name: str, why: str) -> None:
        """``name`` will not succeed: its descendants never run, its stage is abandoned."""
        if self.stages is not None:
            self.stages.failed(name, why)
        for child in self.queue.failed(name):
            self._record(child, 1, TaskState.UPSTREAM_FAILED, reason=f"upstream '{name}' failed")
            if self.stages is not None:
                self.stages.failed(child, why)
        if self.fail_fast and not self.stopping:
            self._stop_starting(f"not started: --fail-fast after '{name}' failed")

    def _satisfied(self, name: str) -> None:
        if self.stages is not None and not self.stages.satisfied(name):
            self._blocked(name, f"stage '{self.stages.stage_of(name)}' was not published")
            return
        self.queue.succeeded(name)
        self.ready.extend(self.queue.take_ready())

    def _stage_built(self, name: str, attempt: int, reason: str | None, row: dict) -> None:
        """A staged task's table is built: it stays 'running' until its stage is published."""
        stage = self.stages.stage_of(name)
        waiting = f"built; waiting for stage '{stage}' to be published"
        self._record(name, attempt, TaskState.RUNNING, reason=waiting, **row)
        kept = {k: v for k, v in row.items() if k != "checks"}  # check rows are written once
        self.stages.built(name, attempt, {**kept, "reason": reason})

    def _stage_decided(
        self, name: str, attempt: int, status: str, reason: str | None, row: dict
    ) -> None:
        """Record a staged task's final state once its stage is published or abandoned."""
        state = TaskState(status)
        if state == TaskState.FAILED:
            self.report.errors[name] = reason or ""
        self._record(name, attempt, state, reason=reason, **row)

    def _stop_starting(self, reason: str) -> None:
        """Start nothing more: every task not running yet is recorded cancelled."""
        self.stopping = reason
        waiting = {name: attempt for _, _, name, attempt in self.retries}
        self.retries.clear()
        self.ready.clear()
        for future, info in list(self.running.items()):
            if self.executor.cancel(future):  # queued, not started: it never will be
                del self.running[future]
                self._record(info.name, info.attempt, TaskState.CANCELLED, reason=reason)
        running = {info.name for info in self.running.values()}
        for name in self.queue.withdraw_all():
            if name not in running:
                self._record(name, waiting.get(name, 1), TaskState.CANCELLED, reason=reason)

    def _cancel(self) -> None:
        """Ctrl-C: tell running tasks to stop, start nothing, wait a little, record the rest."""
        self.cancelled = True
        request_stop(self.run_id)
        self._stop_starting("not started: the run was cancelled")
        deadline = time.monotonic() + self.cancel_grace_s
        try:
            while self.running and time.monotonic() < deadline:
                try:
                    self._collect(self.done.get(timeout=min(0.2, self.cancel_grace_s)))
                except queue.Empty:
                    pass
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: stop waiting
        for future, info in list(self.running.items()):
            self.executor.cancel(future)
            self._record(
                info.name,
                info.attempt,
                TaskState.CANCELLED,
                reason="cancelled while running",
                started_at=info.started_at,
                finished_at=utcnow(),
            )
        self.running.clear()

    def _expire(self) -> None:
        """Fail attempts that ran past their task's timeout (counted from their real start)."""
        now = time.monotonic()
        for future, info in list(self.running.items()):
            if info.timeout is None:
                continue
            if info.deadline is None:
                if getattr(future, "running", lambda: True)() or future.done():
                    info.deadline = now + info.timeout
                continue
            if now > info.deadline:
                del self.running[future]
                request_stop(self.run_id, info.name, info.attempt)
                self.executor.cancel(future)
                error = f"TimeoutError: took longer than {info.timeout:g} s"
                self._finished(info, _failed(info, error))

    def _wakeup(self) -> float:
        """Seconds until the next retry or timeout is due, and never more than SIGNAL_POLL_S:
        a signal the kernel hands to a worker thread runs its handler only once the main
        thread wakes up."""
        times = [entry[0] for entry in self.retries[:1]]
        for info in self.running.values():
            if info.timeout is not None:
                times.append(
                    info.deadline if info.deadline is not None else time.monotonic() + 0.05
                )
        due = min(times, default=math.inf) - time.monotonic()
        return max(0.0, min(due, SIGNAL_POLL_S))

    def _record(self, name: str, attempt: int, state: TaskState, **fields: Any) -> None:
        row = {
            "task": name,
            "attempt": attempt,
            "status": state.value,
            "fingerprint": self.fingerprints.get(name),
            **fields,
        }
        if state != TaskState.RUNNING:
            if "finished_at" not in fields:
                row["finished_at"] = utcnow()
            self.report.tasks[name] = state
            self.observer.task_finished(
                name, state, attempt, fields.get("reason"), fields.get("error")
            )
        self.writer.put(row)

    def _final_status(self) -> RunState:
        if self.cancelled:
            return RunState.CANCELLED
        if any(state not in SATISFIED for state in self.report.tasks.values()):
            return RunState.FAILED
        return RunState.SUCCESS


def _failed(info: _Running, error: str) -> AttemptOutcome:
    now = utcnow()
    duration = int((now - info.started_at).total_seconds() * 1000)
    return AttemptOutcome(info.name, info.attempt, False, info.started_at, now, duration, error)
