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
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Unpack

from ..faults import crash_point
from ..status import SATISFIED, RunState, TaskState
from ..system import utcnow
from .attempt import AttemptCall, AttemptOutcome, run_attempt
from .context import request_stop
from .executors import Executor
from .failures import error_location
from .interrupts import signals_call
from .lineage import Ancestry
from .plan import RunPlan
from .planner import decide
from .report import RunObserver, RunReport
from .retry import backoff
from .scheduler import ReadyQueue

if TYPE_CHECKING:
    from ..db.ledger import LedgerWriter
    from ..db.ledger_rows import AttemptFields, TaskRowFields, TaskRowState
    from .stages import StageDecision, StageRun

__all__ = ["CANCEL_GRACE_S", "Execution"]

# Put on the outcome queue by Ctrl-C/SIGTERM to wake the loop (a future no attempt returns).
INTERRUPTED: Future[AttemptOutcome] = Future()
SIGNAL_POLL_S = 0.2  # the longest the loop waits without running pending signal handlers
# How long a stopping run waits for its running tasks to stop before leaving them behind.
CANCEL_GRACE_S = 10.0


@dataclass
class _Running:
    name: str
    attempt: int
    started_at: datetime
    timeout: float | None
    deadline: float | None = None  # set once the attempt is seen running


class Execution:
    """One run of a ``RunPlan``'s tasks on ``executor``; ``run()`` returns the report.

    Every attempt and decision goes to the ledger through ``writer``; ``stages`` (when selected
    tasks belong to stages) decides when their tables publish.
    """

    def __init__(
        self,
        plan: RunPlan,
        *,
        executor: Executor,
        writer: LedgerWriter,
        observer: RunObserver,
        stages: StageRun | None = None,
        cancel_grace_s: float = CANCEL_GRACE_S,
    ):
        self.plan, self.dag, self.stages = plan, plan.dag, stages
        self.executor, self.writer, self.observer = executor, writer, observer
        self.cancel_grace_s = cancel_grace_s
        selected = set(plan.names)
        upstream = {n: [p for p in self.dag.upstream(n) if p in selected] for n in plan.names}
        self.queue = ReadyQueue(stages.upstream(upstream) if stages is not None else upstream)
        self.ready: deque[str] = deque()
        self.running: dict[Future[AttemptOutcome], _Running] = {}
        self.retries: list[tuple[float, int, str, int]] = []
        self.done: queue.SimpleQueue[Future[AttemptOutcome]] = queue.SimpleQueue()
        self.produced: set[str] = set()
        self.reuse: dict[str, str | None] = {}
        self.stopping: str | None = None
        self.cancelled = False
        self.report = RunReport(plan.run_id, RunState.RUNNING, started_at=utcnow())

    def run(self) -> RunReport:
        """Run to the end (or until cancelled) and return the report."""
        for name, why in self.plan.blocked.items():  # a source it reads failed its checks
            self._record(name, 1, TaskState.UPSTREAM_FAILED, reason=why)
            self._blocked(name, why)
        self.ready.extend(self.queue.take_ready())
        with signals_call(lambda: self.done.put(INTERRUPTED)):
            try:
                self._loop()
            except KeyboardInterrupt:
                self._cancel()
        if self.stages is not None:
            self._decided(self.stages.abandon("the run ended before the stage was complete"))
        self.report.status = self._final_status()
        self.report.finished_at = utcnow()
        return self.report

    def _loop(self) -> None:
        while True:
            self._launch()
            if not (self.running or self.ready or self.retries):
                return
            try:
                future: Future[AttemptOutcome] | None = self.done.get(timeout=self._wakeup())
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
        workers = self.plan.workers
        limit = workers if self.plan.fail_fast else workers * 2
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
            fingerprint=self.plan.fingerprints[name],
            history=self.plan.history,
            upstream=self.dag.upstream(name),
            produced=self.produced,
            now=self.plan.now,
            full_refresh=self.plan.full_refresh,
        )
        self.report.reasons[name] = decision.reason
        if not decision.run:
            self._record(name, 1, TaskState.SKIPPED, reason=decision.reason)
            self._satisfied(name)
            return
        past = self.plan.history.get(name)
        self.reuse[name] = past.success_output if decision.reuse_output and past else None
        self._start(name, 1)

    def _start(self, name: str, attempt: int) -> None:
        task = self.dag.tasks[name]
        call = self._attempt_call(name, attempt)
        crash_point("runner.before_attempt")
        started = utcnow()
        self._record(name, attempt, TaskState.RUNNING, started_at=started)
        self.report.attempts[name] = attempt
        self.observer.task_started(name, attempt)
        future = self.executor.submit(run_attempt, call)
        self.running[future] = _Running(name, attempt, started, task.timeout)
        future.add_done_callback(self.done.put)

    def _attempt_call(self, name: str, attempt: int) -> AttemptCall:
        """What a worker needs to run this attempt (built here, and ahead by some executors)."""
        return AttemptCall(
            task=self.dag.tasks[name],
            run_id=self.plan.run_id,
            attempt=attempt,
            config=self.plan.settings.task_config(name),
            database_url=self.plan.database_url,
            previous_output=self.reuse.get(name),
            target=self.stages.target(name) if self.stages is not None else None,
            reads=self.stages.reads(name) if self.stages is not None else (),
            settings=self.plan.settings,
            writers=self.plan.writers,
            allowed=Ancestry(self.dag, name),
            strict=self.plan.strict,
        )

    def _collect(self, future: Future[AttemptOutcome]) -> None:
        info = self.running.pop(future, None)
        if info is None:
            return  # an attempt that already timed out (or INTERRUPTED)
        try:
            outcome = future.result()
        except BaseException as exc:  # the executor could not run the call at all
            outcome = _failed(info, f"{type(exc).__name__}: {exc}")
        self._finished(info, outcome)

    def _finished(self, info: _Running, outcome: AttemptOutcome) -> None:
        name, attempt, error = info.name, info.attempt, outcome.error
        fields = _fields(outcome)
        if outcome.ok:
            self._succeeded(name, attempt, outcome, fields)
        elif self.cancelled:
            reason = "stopped: the run was cancelled"
            self._record(name, attempt, TaskState.CANCELLED, reason=reason, error=error, **fields)
        elif not self._retry(name, attempt, error, fields):
            self._record(name, attempt, TaskState.FAILED, error=error, **fields)
            self.report.errors[name] = error or ""
            project = self.plan.settings.project
            where = error_location(error, self.plan.settings.root, project.models_dir)
            self.report.locations[name] = where
            self._blocked(name, f"'{name}' failed")

    def _succeeded(
        self, name: str, attempt: int, outcome: AttemptOutcome, fields: AttemptFields
    ) -> None:
        reason = "query unchanged: kept the stored output" if outcome.reused else None
        if outcome.warning:  # it still succeeded, but the user is told
            self.report.warnings[name] = outcome.warning
            self.observer.task_warning(name, outcome.warning)
        if self.stages is not None and self.stages.stage_of(name):
            self._stage_built(name, attempt, reason, fields)
        else:
            self._record(name, attempt, TaskState.SUCCESS, reason=reason, **fields)
        crash_point("runner.after_success")
        if not outcome.reused:
            self.produced.add(name)
        self._satisfied(name)

    def _retry(self, name: str, attempt: int, error: str | None, fields: AttemptFields) -> bool:
        """Schedule the next attempt of a failed one if its task has retries left."""
        task = self.dag.tasks[name]
        if attempt > task.retry or self.stopping:
            return False
        delay = backoff(task)(attempt)
        self.report.retry_delays.setdefault(name, []).append(delay)
        reason = f"retry {attempt}/{task.retry} in {delay:.2f} s"
        self._record(name, attempt, TaskState.FAILED, reason=reason, error=error, **fields)
        entry = (time.monotonic() + delay, len(self.retries) + attempt, name, attempt + 1)
        heapq.heappush(self.retries, entry)
        return True

    def _blocked(self, name: str, why: str) -> None:
        """``name`` will not succeed: its descendants never run, its stage is abandoned."""
        if self.stages is not None:
            self._decided(self.stages.failed(name, why))
        for child in self.queue.failed(name):
            self._record(child, 1, TaskState.UPSTREAM_FAILED, reason=f"upstream '{name}' failed")
            if self.stages is not None:
                self._decided(self.stages.failed(child, why))
        if self.plan.fail_fast and not self.stopping:
            self._stop_starting(f"not started: --fail-fast after '{name}' failed")

    def _satisfied(self, name: str) -> None:
        if self.stages is not None:
            self._decided(self.stages.satisfied(name))
            if self.stages.abandoned(name):
                self._blocked(name, f"stage '{self.stages.stage_of(name)}' was not published")
                return
        self.queue.succeeded(name)
        self.ready.extend(self.queue.take_ready())

    def _stage_built(
        self, name: str, attempt: int, reason: str | None, fields: AttemptFields
    ) -> None:
        """A staged task's table is built: it stays 'running' until its stage is published."""
        if self.stages is None:
            raise RuntimeError(f"task {name!r} reported a staged table with no stages")
        stage = self.stages.stage_of(name)
        waiting = f"built; waiting for stage '{stage}' to be published"
        self._record(name, attempt, TaskState.RUNNING, reason=waiting, **fields)
        kept = fields.copy()
        kept.pop("checks", None)  # check rows are written once
        self._decided(self.stages.built(name, attempt, kept, reason))

    def _decided(self, decisions: list[StageDecision]) -> None:
        """Record staged tasks' final states once their stage is published or abandoned."""
        for name, attempt, state, reason, fields in decisions:
            if state == TaskState.FAILED:
                self.report.errors[name] = reason or ""
            self._record(name, attempt, state, reason=reason, **fields)

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
        request_stop(self.plan.run_id)
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
                if future.running() or future.done():
                    info.deadline = now + info.timeout
                continue
            if now > info.deadline:
                del self.running[future]
                request_stop(self.plan.run_id, info.name, info.attempt)
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

    def _record(
        self, name: str, attempt: int, state: TaskState, **fields: Unpack[TaskRowFields]
    ) -> None:
        row: TaskRowState = {
            "task": name,
            "attempt": attempt,
            "status": state.value,
            "fingerprint": self.plan.fingerprints.get(name),
            **fields,
        }
        if state != TaskState.RUNNING:
            if "finished_at" not in fields:
                row["finished_at"] = utcnow()
            self.report.tasks[name] = state
            reason, error = fields.get("reason"), fields.get("error")
            self.observer.task_finished(name, state, attempt, _text(reason), _text(error))
        self.writer.put(row)

    def _final_status(self) -> RunState:
        if self.cancelled:
            return RunState.CANCELLED
        if any(state not in SATISFIED for state in self.report.tasks.values()):
            return RunState.FAILED
        return RunState.SUCCESS


def _fields(outcome: AttemptOutcome) -> AttemptFields:
    """An attempt's columns of its ledger row."""
    return {
        "started_at": outcome.started_at,
        "finished_at": outcome.finished_at,
        "duration_ms": outcome.duration_ms,
        "rows_affected": outcome.rows_affected,
        "output_fingerprint": outcome.output_fingerprint,
        "checks": outcome.checks,
        "tables": outcome.tables,
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _failed(info: _Running, error: str) -> AttemptOutcome:
    now = utcnow()
    duration = int((now - info.started_at).total_seconds() * 1000)
    return AttemptOutcome(info.name, info.attempt, False, info.started_at, now, duration, error)
