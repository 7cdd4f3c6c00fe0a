"""The run loop on Dask, with children submitted ahead of their parents' end.

The plain loop starts a task once the engine has seen its last parent finish: on a cluster that
costs a round trip through the driver on every dependency edge. Here, when a task starts, its
descendants whose decision cannot change any more are submitted at once, with their running
parents' Dask futures as dependencies, so the scheduler starts each of them the moment its
parents finish. The engine still decides everything as before: a task submitted ahead is only
*adopted* when the engine starts it in the ordinary way, with the same call, after the very
parent attempts it was submitted behind have succeeded; otherwise it is withdrawn and started
afresh. On the worker, a task submitted ahead runs its body only if every parent succeeded
and the run was not stopped (``run_after``), so a child of a failed parent never runs.

Submitting ahead is left out where a decision needs the engine: staged tasks, ``--fail-fast``,
children of a task with a timeout (the engine, not the task, decides it failed), children of a
retried attempt, and tasks whose run-or-skip decision depends on what their parents produce.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from ..status import SATISFIED, TaskState
from .attempt import AttemptOutcome, run_attempt
from .execution import Execution
from .planner import Decision, decide

if TYPE_CHECKING:
    from .plan import RunPlan

__all__ = ["AheadExecution"]


class AheadExecution(Execution):
    """``Execution`` for an executor with ``submit_after`` and ``withdraw`` (the Dask one).

    At most ``2 * workers`` tasks wait ahead at a time, as many as the engine keeps in flight.
    """

    def __init__(self, plan: RunPlan, **parts: Any):
        super().__init__(plan, **parts)
        selected = set(plan.names)
        self._parents = {n: [p for p in self.dag.upstream(n) if p in selected] for n in plan.names}
        self._children: dict[str, list[str]] = {name: [] for name in plan.names}
        for name, parents in self._parents.items():
            for parent in parents:
                self._children[parent].append(name)
        for children in self._children.values():
            children.sort()
        self._enabled = self.stages is None and not plan.fail_fast
        self._cap = 2 * max(1, plan.workers)
        # the future of each task's latest attempt (started, or submitted ahead)
        self._flight: dict[str, Future[AttemptOutcome]] = {}
        # task submitted ahead -> the parent attempts (futures) it waits behind
        self._ahead: dict[str, dict[str, Future[AttemptOutcome]]] = {}

    def _start(self, name: str, attempt: int) -> None:
        behind = self._ahead.pop(name, None)
        if behind is not None and not self._parents_held(behind, attempt):
            self.executor.withdraw([name])  # type: ignore[attr-defined]
        super()._start(name, attempt)
        if not self._enabled:
            return
        latest = next(reversed(self.running), None)
        if latest is not None and self.running[latest].name == name:
            self._flight[name] = latest
        self._look_ahead(name)

    def _parents_held(self, behind: dict[str, Future[AttemptOutcome]], attempt: int) -> bool:
        """Whether the attempts a task was submitted behind are the ones that succeeded."""
        return (
            attempt == 1
            and self._current(behind)
            and all(self.report.tasks.get(parent) == TaskState.SUCCESS for parent in behind)
        )

    def _current(self, behind: dict[str, Future[AttemptOutcome]]) -> bool:
        """Whether each parent's attempt behind which a task waits is its latest one."""
        return all(self._flight.get(parent) is future for parent, future in behind.items())

    def _stop_starting(self, reason: str) -> None:
        if self._ahead:  # nothing submitted ahead may start now
            self.executor.withdraw(list(self._ahead))  # type: ignore[attr-defined]
            self._ahead.clear()
        super()._stop_starting(reason)

    def _look_ahead(self, name: str) -> None:
        """Submit ahead the descendants of ``name`` whose decision is already known."""
        if len(self._ahead) >= self._cap:
            self._prune()
        todo = [name]
        while todo and len(self._ahead) < self._cap and not self.stopping:
            for child in self._children[todo.pop()]:
                if len(self._ahead) < self._cap and self._submit_ahead(child):
                    todo.append(child)

    def _prune(self) -> None:
        """Withdraw tasks submitted ahead that the engine settled without starting them
        (upstream failed): they no longer count against the cap."""
        settled = [name for name in self._ahead if name in self.report.tasks]
        for name in settled:
            del self._ahead[name]
        if settled:
            self.executor.withdraw(settled)  # type: ignore[attr-defined]

    def _submit_ahead(self, name: str) -> bool:
        if name in self.report.attempts or name in self.report.tasks:
            return False  # started by the engine, or settled without starting
        if name in self._ahead:
            if self._current(self._ahead[name]):
                return False
            del self._ahead[name]  # behind an attempt that is over: submit it again
            self.executor.withdraw([name])  # type: ignore[attr-defined]
        behind: dict[str, Future[AttemptOutcome]] = {}
        for parent in self._parents[name]:
            state = self.report.tasks.get(parent)
            if state in SATISFIED:
                continue
            future = self._flight.get(parent)
            if future is None or state is not None or self.dag.tasks[parent].timeout is not None:
                return False  # not started, retried or failed, or the engine may time it out
            behind[parent] = future
        if not behind:  # ready already: the engine starts it in the ordinary way
            return False
        decision = self._settled_decision(name, set(behind))
        if decision is None:
            return False
        past = self.plan.history.get(name)
        self.reuse[name] = past.success_output if decision.reuse_output and past else None
        call = self._attempt_call(name, 1)
        submit_after = self.executor.submit_after  # type: ignore[attr-defined]
        future = submit_after(run_attempt, call, list(behind.values()))
        if future is None:
            return False
        self._ahead[name] = behind
        self._flight[name] = future
        return True

    def _settled_decision(self, name: str, pending: set[str]) -> Decision | None:
        """The run decision for ``name`` if its parents' outcomes cannot change it, else None.

        ``decide`` only reads which parents produced data; the decision with none and with all
        of ``pending`` producing bounds every case in between.
        """
        task = self.dag.tasks[name]
        options: dict[str, Any] = {
            "fingerprint": self.plan.fingerprints[name],
            "history": self.plan.history,
            "upstream": self.dag.upstream(name),
            "now": self.plan.now,
            "full_refresh": self.plan.full_refresh,
        }
        now = decide(task, produced=self.produced, **options)
        if not now.run or decide(task, produced=self.produced | pending, **options) != now:
            return None
        return now
