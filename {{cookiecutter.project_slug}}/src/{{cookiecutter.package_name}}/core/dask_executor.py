"""Run task attempts on a ``dask.distributed`` cluster: an existing scheduler, or a LocalCluster.

Only plain data crosses the wire: the engine submits ``run_attempt(AttemptCall)``, in which the
task travels as a reference (module and name), the database as a URL and the run's resolved
settings as a value (a worker never reads settings.yml or .env); every worker imports the
project's models and builds its own engine on first use. The run loop, the ledger and the
retry policy stay in the process that started the run, so they behave exactly as with threads.

A worker that dies in the middle of an attempt fails that attempt (the scheduler is told not to
re-run it elsewhere), and the engine's own retry policy decides what happens next.

The run loop is ``AheadExecution``: a task is submitted ahead (``submit_after``) with its parents'
Dask futures as dependencies, so the scheduler starts it as soon as they finish, without a round
trip through the driver; the engine adopts it when it starts the task with the same call, else
withdraws it (``withdraw``). On the worker, ``run_after`` runs the body only if every parent
succeeded and the run was not stopped.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import uuid
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import SettingsError
from ..system import utcnow
from .attempt import AttemptCall, AttemptOutcome
from .context import forget_run, request_stop, stop_requested
from .executors import Executor

try:  # an optional extra: `pip install .[dask]`
    import distributed
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover - reported when the executor is chosen
    distributed = None  # type: ignore[assignment]  # checked by _distributed()
    WorkerPlugin = object  # type: ignore[assignment,misc]  # a plain base class instead

if TYPE_CHECKING:
    from distributed import Client
    from distributed import Future as RemoteFuture
    from distributed import LocalCluster, as_completed

    from ..settings import Settings

__all__ = ["DaskExecutor", "ProjectOnWorker", "executor_from_settings", "run_after"]

_log = logging.getLogger("pipeline.dask")
_STOP_POLL_S = 0.2
R = TypeVar("R")


def _distributed() -> ModuleType:
    """The ``distributed`` module, or a message saying how to install it."""
    if distributed is None:
        raise SettingsError(
            "executor",
            [
                "executor kind 'dask' needs dask.distributed, which is not installed; "
                "install the extra with `pip install .[dask]` or use `kind: threads`"
            ],
        )
    return distributed


class ProjectOnWorker(WorkerPlugin):
    """Worker plugin: the project on ``sys.path`` and its models imported afresh.

    Registered at the start of every run, so a long-lived cluster never runs an older version
    of an edited model: earlier imports of the models package are dropped first.
    """

    name = "pipeline-project"

    def __init__(self, root: str | Path, models_dir: str = "models"):
        self.root = str(Path(root).resolve())
        self.package = ".".join(Path(models_dir).parts)

    def setup(self, worker: object = None) -> None:
        """Called by Dask on every worker, current and future."""
        if self.root in sys.path:
            sys.path.remove(self.root)
        sys.path.insert(0, self.root)
        stale = [m for m in sys.modules if m == self.package or m.startswith(self.package + ".")]
        for module in stale:
            del sys.modules[module]
        importlib.invalidate_caches()


class DaskExecutor(Executor):
    """Attempts run as Dask tasks; ``address`` names a scheduler, else a LocalCluster is made.

    With no address, ``workers`` worker processes of one thread each are started (so
    CPU-bound Python tasks run in parallel) and closed again by ``shutdown``. A ``client``
    passed in is used as is and left open.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        project_root: str | Path | None = None,
        models_dir: str = "models",
        client: Client | None = None,
    ):
        self.address = address
        self.workers = workers or 2
        self.project_root = Path(project_root or Path.cwd())
        self.models_dir = models_dir
        self.client = client
        self._own_client = client is None
        self._cluster: LocalCluster | None = None
        # ours -> (Dask's, the call it runs: None for a call that is not an attempt)
        self._futures: dict[Future[Any], tuple[RemoteFuture[Any], AttemptCall | None]] = {}
        self._lock = threading.RLock()
        # task -> (the function, the call and our future of its submission ahead)
        self._ahead: dict[str, tuple[Callable[..., Any], AttemptCall, Future[Any]]] = {}
        self.adopted = 0  # submissions ahead the engine took over (a figure for tests)
        self._run_ids: set[str] = set()
        self._local: dict[Hashable, Future[Any]] = {}
        self._completed: as_completed | None = None
        self._halt = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, workers: int) -> None:
        distributed = _distributed()
        self.workers = workers
        if self.client is None:
            self.client = self._connect(distributed, workers)
        plugin = ProjectOnWorker(self.project_root, self.models_dir)
        self.client.register_plugin(plugin, name=ProjectOnWorker.name)
        _send_promptly(self.client)
        self._completed = distributed.as_completed(loop=self.client.loop)
        self._halt.clear()
        self._threads = [
            threading.Thread(target=self._collect, name="dask-results", daemon=True),
            threading.Thread(target=self._forward_stops, name="dask-stops", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _connect(self, distributed: ModuleType, workers: int) -> Client:
        if self.address:
            client: Client = distributed.Client(self.address, set_as_default=False)
            return client
        # allowed_failures=0: an attempt whose worker died fails instead of re-running
        # elsewhere, so every attempt runs at most once and the ledger stays true
        self._cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"allowed_failures": 0},
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(self._cluster, set_as_default=False)
        return client

    @property
    def execution(self) -> type:
        """The run loop for this executor: the engine's, submitting children ahead."""
        from .dask_ahead import AheadExecution

        return AheadExecution

    def submit(self, fn: Callable[..., R], *args: object) -> Future[R]:
        call = args[0] if args and isinstance(args[0], AttemptCall) else None
        if call is not None:
            with self._lock:
                ahead = self._ahead.pop(call.task.name, None)
            if ahead is not None:
                early_fn, early_call, early = ahead
                if early_fn is fn and early_call == call:
                    self.adopted += 1
                    return early
                self._cancel_remote([early])  # not the attempt the engine means to run
        return self._send(fn, args, call)

    def submit_after(
        self, fn: Callable[..., R], call: AttemptCall, parents: Sequence[Future[Any]]
    ) -> Future[R] | None:
        """Submit ``fn(call)`` to run once the attempts behind ``parents`` (futures this
        executor returned) succeed; None when one of them has already finished."""
        with self._lock:  # a parent's Dask future is not released while its child is sent
            remotes = [self._futures.get(parent) for parent in parents]
            if any(entry is None for entry in remotes):
                return None
            deps = [entry[0] for entry in remotes if entry is not None]
            future = self._send(run_after, (fn, call, *deps), call)
            self._ahead[call.task.name] = (fn, call, future)
        return future

    def withdraw(self, names: Sequence[str]) -> None:
        """Cancel the submissions ahead of ``names`` that the engine did not adopt."""
        with self._lock:
            early = [self._ahead.pop(name)[2] for name in names if name in self._ahead]
        self._cancel_remote(early)

    def _cancel_remote(self, futures: list[Future[Any]]) -> None:
        """Cancel our ``futures``' Dask tasks (their dependents submitted ahead go too)."""
        with self._lock:
            entries = [self._futures.pop(future, None) for future in futures]
            remotes = [entry[0] for entry in entries if entry is not None]
            for remote in remotes:
                self._local.pop(remote.key, None)
        for future in futures:
            future.cancel()
        if remotes and self.client is not None:
            self.client.cancel(remotes)

    def _send(
        self, fn: Callable[..., Any], args: tuple[object, ...], call: AttemptCall | None
    ) -> Future[Any]:
        if self.client is None:
            self.start(self.workers)
        if self.client is None or self._completed is None:
            raise RuntimeError("the Dask executor did not start")
        # one key prefix for every attempt: the scheduler keeps one task group, not one per
        # task name (it walks every group on each submit); the task's name ends the key
        key = f"attempt-{uuid.uuid4().hex[:12]}-{call.task.name if call else 'call'}"
        future: Future[Any] = Future()
        remote = self.client.submit(fn, *args, key=key, pure=False, retries=0)
        with self._lock:
            self._futures[future] = (remote, call)
            self._local[key] = future
            if call is not None:
                self._run_ids.add(call.run_id)
        self._completed.add(remote)
        self._wake.set()
        return future

    def _collect(self) -> None:
        """Hand each finished Dask future's outcome to ours.

        The results of every task that finished since the last look are fetched in one
        request: one message to the cluster per batch, not one per task.
        """
        completed = self._completed
        while completed is not None and not self._halt.is_set():
            try:
                batch = completed.next_batch(block=True)
            except StopIteration:  # nothing in flight: sleep until the next submit
                self._wake.wait(_STOP_POLL_S)
                self._wake.clear()
                continue
            statuses = [remote.status for remote in batch]
            for remote, status, result in zip(batch, statuses, self._results(batch, statuses)):
                self._settle(remote, status, result)

    def _results(self, batch: list[RemoteFuture[Any]], statuses: list[str]) -> list[object]:
        """What each future of ``batch`` holds: its value, or the error that stopped it."""
        finished = [remote for remote, status in zip(batch, statuses) if status == "finished"]
        client = self.client
        try:
            values = iter(client.gather(finished) if finished and client is not None else [])
        except Exception:  # one of them was lost meanwhile: fetch them one by one
            values = iter([_outcome_of(remote) for remote in finished])
        return [
            next(values) if status == "finished" else _outcome_of(remote)
            for remote, status in zip(batch, statuses)
        ]

    def _settle(self, remote: RemoteFuture[Any], status: str, result: object) -> None:
        with self._lock:
            future = self._local.pop(remote.key, None)
            if future is not None:
                self._futures.pop(future, None)
        if future is None or future.done():
            return
        if status == "finished":
            future.set_result(result)
        elif status == "error":  # KilledWorker, a lost connection: the attempt failed
            error = result[1] if isinstance(result, tuple) else result
            future.set_exception(error if isinstance(error, BaseException) else RuntimeError(error))
        else:
            future.cancel()
        remote.release()

    def cancel(self, future: Future[R]) -> bool:
        """False: a Dask task may already be running and cannot be withdrawn for sure.

        A running attempt stops through ``run.should_stop()``, which the stop relay sets on
        the workers; the engine stops waiting for it after its grace period.
        """
        return future.done() and future.cancelled()

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        if self.client is not None:
            with self._lock:
                abandoned = [remote for remote, _ in self._futures.values()]
            if abandoned:  # attempts the engine gave up on: free the cluster of them
                self.client.cancel(abandoned)
        self._halt.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=10 if timeout is None else timeout)
        self._threads = []
        with self._lock:
            self._futures.clear()
            self._local.clear()
            self._ahead.clear()
        if self.client is None:
            return
        for run_id in list(self._run_ids):
            self._broadcast(forget_run, run_id)
        self._run_ids.clear()
        if self._own_client:
            self.client.close()
            self.client = None
            if self._cluster is not None:
                self._cluster.close()
                self._cluster = None

    def _forward_stops(self) -> None:
        """Relay stop requests (a cancelled run, a timed-out attempt) to the workers, where
        ``run.should_stop()`` reads them."""
        relayed: set[tuple[str, str, int]] = set()
        while not self._halt.wait(_STOP_POLL_S):
            with self._lock:
                calls = [call for _, call in self._futures.values() if call is not None]
            for call in calls:
                key = (call.run_id, call.task.name, call.attempt)
                if key not in relayed and stop_requested(*key):
                    relayed.add(key)
                    self._broadcast(request_stop, *key)

    def _broadcast(self, fn: Callable[..., object], *args: object) -> None:
        """Call ``fn(*args)`` in every worker process; a failure only costs the relay."""
        try:
            self.client.run(fn, *args)  # type: ignore[union-attr]
        except Exception as exc:  # a closing cluster: the workers are going away anyway
            _log.debug("could not reach the workers: %s", exc)


def _outcome_of(remote: RemoteFuture[Any]) -> object:
    """One future's value, else its error (None when it was cancelled)."""
    if remote.cancelled():
        return None
    try:
        return remote.result()
    except Exception as exc:  # handed to the engine as the attempt's failure
        return exc


def run_after(
    fn: Callable[[AttemptCall], AttemptOutcome], call: AttemptCall, *parents: object
) -> AttemptOutcome:
    """On a worker: ``fn(call)`` once its parents are done, if they all succeeded and the run
    was not stopped; else a failed outcome saying why, without running the task's code."""
    failed = [p for p in parents if not (isinstance(p, AttemptOutcome) and p.ok)]
    if not failed and not stop_requested(call.run_id, call.task.name, call.attempt):
        return fn(call)
    if failed:
        first = failed[0]
        why = f"upstream '{first.task if isinstance(first, AttemptOutcome) else first}'"
        why = f"not started: {why} did not succeed"
    else:
        why = "not started: the run was stopped"
    now = utcnow()
    return AttemptOutcome(call.task.name, call.attempt, False, now, now, 0, why)


def _send_promptly(client: Client) -> None:
    """Let the client send each submit within 1 ms instead of batching for 10 ms.

    The engine submits a task the moment its last parent finishes, so the client's batching
    delay would sit on the critical path of every dependency edge.
    """
    comm = getattr(client, "scheduler_comm", None)
    if comm is not None and isinstance(getattr(comm, "interval", None), float):
        comm.interval = min(comm.interval, 0.001)


def executor_from_settings(settings: Settings, kind: str | None = None) -> Executor | None:
    """The executor settings.yml (or ``--executor``) asks for; None means the thread pool."""
    chosen = kind or settings.executor.kind
    if chosen == "threads":
        return None
    if chosen != "dask":
        raise SettingsError(
            "executor", [f"executor kind {chosen!r} is not known; use 'threads' or 'dask'"]
        )
    return DaskExecutor(
        settings.executor.address,
        workers=settings.executor.workers,
        project_root=settings.root,
        models_dir=settings.project.models_dir,
    )
