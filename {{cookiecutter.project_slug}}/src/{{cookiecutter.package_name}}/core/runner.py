"""``run_pipeline``: gather, plan, lock and run, with every step in the ledger.

    report = run_pipeline(load_settings(), RunRequest(select=("task_two+",), workers=8))
    sys.exit(report.exit_code)

It reads top-down: first gather what the run needs (definitions, engine, schema state,
fingerprints), then check the plan (stages), then take the lock and execute. Definitions and
the schema are checked before the lock is taken (a bad model never blocks anyone), and runs
left 'running' by a dead process are marked crashed only once this run holds the lock (so they
cannot be alive); the ledger history the plan decides on is read after that.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from sqlalchemy import Engine, inspect

from .. import __version__
from ..db.ledger import Ledger, LedgerWriter, RunRow, selection_json
from ..db.locks import RunLock, run_lock_for
from ..faults import crash_point
from ..logs import bind_run
from ..settings import Settings
from ..status import SATISFIED, RunState
from ..system import utcnow
from .alerts import notify_run
from .cache import clear_source_cache, fingerprints
from .check_run import SourceGate
from .context import forget_run, request_stop
from .dag import Dag
from .discovery import discover
from .engines import run_engine, url_of
from .execution import CANCEL_GRACE_S, Execution
from .executors import Executor, ThreadExecutor
from .lineage import writers_of
from .plan import RunOptions, RunPlan, RunRequest
from .planner import decide
from .report import LogObserver, PlannedTask, RunObserver, RunReport
from .schema_check import require_head_fast

if TYPE_CHECKING:
    from .stages import StageRun

__all__ = ["RunRequest", "load_dag", "new_run_id", "run_pipeline"]


def load_dag(settings: Settings) -> Dag:
    """The project's tasks, discovered and validated (``DefinitionError`` lists every problem)."""
    clear_source_cache()
    return Dag.from_tasks(discover(settings), root=settings.root)


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: UTC time plus random suffix."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class _Gathered:
    """What the run reads before deciding anything."""

    settings: Settings
    dag: Dag
    names: list[str]
    executor: Executor | None  # None: a thread pool of the run's size
    engine: Engine
    ledger: Ledger
    fingerprints: dict[str, str]
    now: datetime


def run_pipeline(
    settings: Settings,
    request: RunRequest | None = None,
    *,
    executor: Executor | str | None = None,
    observer: RunObserver | None = None,
    now: datetime | None = None,
    dag: Dag | None = None,
    **options: Unpack[RunOptions],
) -> RunReport:
    """Run the selected tasks of the project and return the report (see module docstring).

    ``request`` is what the CLI builds; the same options may be given as keywords instead
    (``select=``, ``workers=``, ``resume=``, ...). ``executor`` is an executor or its kind.
    """
    if request is None:
        kind = executor if isinstance(executor, str) else None
        request = RunRequest.from_options(executor=kind, **options)
    pool = executor if isinstance(executor, Executor) else None
    run = _gather(settings, request, pool, dag, now or utcnow())
    if request.dry_run:
        return _dry_run(run, request)
    observer = observer or LogObserver()
    run_id = new_run_id()
    with bind_run(run_id):
        report = _locked_run(run, request, observer, run_id)
        observer.run_finished(report)
        notify_run(settings, run.ledger, report)  # after the lock: alerts never hold a run up
    return report


def _gather(
    settings: Settings,
    request: RunRequest,
    executor: Executor | None,
    dag: Dag | None,
    now: datetime,
) -> _Gathered:
    """Definitions, the executor, the engine (the schema checked at head) and fingerprints."""
    dag = dag or load_dag(settings)
    names = dag.select(request.select, request.exclude)
    executor = executor or _executor(settings, request.executor)
    engine = run_engine(settings)
    require_head_fast(settings, engine)
    prints = fingerprints(dag, settings.task_config)
    return _Gathered(settings, dag, names, executor, engine, Ledger(engine), prints, now)


def _locked_run(
    run: _Gathered, request: RunRequest, observer: RunObserver, run_id: str
) -> RunReport:
    """Check the stages, take the lock, settle what earlier runs left, then execute."""
    lock = run_lock_for(run.engine)
    stages = _stages(run, lock)
    gate = SourceGate(run.settings, run.names)
    with lock:
        lock.acquire(run_id)
        _clean_leftovers(run.engine)
        # --resume reads the last run, so runs left running are marked crashed before that
        crashed = run.ledger.mark_crashed(utcnow(), keep=run_id) if request.resume else []
        names, message = _resumed(run, request, run_id)
        row = _run_row(run_id, names, request, run.settings.root)
        crashed += run.ledger.open_run(row, utcnow())
        plan = _plan(run, request, run_id, names, gate.blocked(run.engine, run_id, names))
        pool = run.executor or ThreadExecutor(plan.workers)
        report = _execute(run.ledger, plan, pool, stages, observer)
        report.message = message
        report.crashed_runs = crashed
    return report


def _plan(
    run: _Gathered, request: RunRequest, run_id: str, names: list[str], blocked: dict[str, str]
) -> RunPlan:
    """The run resolved; the history is read now, once earlier runs are settled."""
    return RunPlan(
        run_id=run_id,
        dag=run.dag,
        names=names,
        fingerprints=run.fingerprints,
        history=run.ledger.history(run.dag.names),
        settings=run.settings,
        database_url=url_of(run.settings),
        workers=request.workers or run.settings.executor.workers,
        now=run.now,
        full_refresh=request.full_refresh,
        fail_fast=request.fail_fast,
        blocked=blocked,
        strict=request.strict,
        writers=writers_of(run.dag, run.ledger.table_writers()),
    )


def _execute(
    ledger: Ledger,
    plan: RunPlan,
    pool: Executor,
    stages: StageRun | None,
    observer: RunObserver,
) -> RunReport:
    """Run the loop with its executor and ledger writer, and close the run whatever happens."""
    pool.start(plan.workers)
    writer = LedgerWriter(ledger.engine, plan.run_id)
    status = RunState.CRASHED
    try:
        observer.run_started(plan.run_id, len(plan.names))
        loop = getattr(pool, "execution", Execution)  # an executor may bring its own run loop
        execution = loop(plan, executor=pool, writer=writer, observer=observer, stages=stages)
        report = execution.run()
        crash_point("runner.before_finish")
        if stages is not None:  # abandoned stages' shadows (only a staged run makes them)
            _clean_leftovers(ledger.engine, stages_only=True)
        status = report.status
    finally:
        if status == RunState.CRASHED:
            # An error of the run's own: its running tasks are told to stop and given Ctrl-C's
            # grace to do so. A task thread still inside a driver or OpenSSL while the process
            # exits can end it with SIGSEGV instead of its error.
            request_stop(plan.run_id)
            pool.shutdown(wait=True, timeout=CANCEL_GRACE_S)
        else:
            pool.shutdown(wait=False)  # idle by now, or left with tasks told to stop
        writer.close()
        if status == RunState.CRASHED:
            ledger.close_open_rows(plan.run_id, utcnow())
        ledger.finish_run(plan.run_id, status.value, utcnow())
        forget_run(plan.run_id)
    return report


def _run_row(run_id: str, names: list[str], request: RunRequest, root: Path) -> RunRow:
    return {
        "id": run_id,
        "started_at": utcnow(),
        "heartbeat_at": utcnow(),
        "status": RunState.RUNNING.value,
        "selection": selection_json(tasks=names, **request.selection()),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "code_version": _code_version(root),
        "tasks_total": len(names),
    }


def _executor(settings: Settings, kind: str | None) -> Executor | None:
    """The executor ``kind`` (or settings.yml) names; None for the thread pool."""
    if (kind or settings.executor.kind) == "threads":
        return None
    from .dask_executor import executor_from_settings  # dask is an optional extra

    return executor_from_settings(settings, kind)


def _stages(run: _Gathered, lock: RunLock) -> StageRun | None:
    """The run's ``StageRun``, checked before anything runs (None when no task has a stage)."""
    if not run.settings.stages and not any(run.dag.tasks[name].stage for name in run.names):
        return None  # the usual case: no need to load the SQL layer
    from .stages import plan_stages

    return plan_stages(run.settings, run.engine, run.dag, run.names, lock)


def _clean_leftovers(engine: Engine, stages_only: bool = False) -> None:
    """Drop the shadow tables a killed or failed run left (this run holds the lock)."""
    inspector = inspect(engine)
    names = [*inspector.get_table_names(), *inspector.get_view_names()]
    if not any("__pl_" in name for name in names):
        return  # the usual case: no need to load the SQL layer
    from ..sql.materialize import clean_leftovers
    from ..sql.stage_tables import clean_stage_leftovers

    if not stages_only:
        clean_leftovers(engine)
    clean_stage_leftovers(engine)


def _code_version(root: Path) -> str:
    """The project's git commit (read from .git, no subprocess), else the package version."""
    explicit = os.environ.get("PIPELINE_CODE_VERSION")
    if explicit:
        return explicit[:64]
    git = root / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            loose = git / ref
            if loose.is_file():
                return loose.read_text().strip()[:12]
            for line in (git / "packed-refs").read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0][:12]
            return __version__
        return head[:12]
    except OSError:
        return __version__


def _resumed(run: _Gathered, request: RunRequest, run_id: str) -> tuple[list[str], str | None]:
    """The tasks this run executes: the selection, or with ``--resume`` what the last run left."""
    if not request.resume:
        return run.names, None
    return _resume_names(run.ledger, run.dag, run.names, run_id)


def _resume_names(
    ledger: Ledger, dag: Dag, names: list[str], run_id: str
) -> tuple[list[str], str | None]:
    """The failed and never-started tasks of the last run (still in the selection)."""
    last = ledger.last_run(exclude=run_id)
    if last is None:
        return names, "no earlier run to resume: running the selection"
    asked = json.loads(last.selection or "{}").get("tasks") or []
    states = ledger.final_states(last.id)
    wanted = set(names)
    again = [n for n in dag.names if n in asked and n in wanted and states.get(n) not in SATISFIED]
    return again, f"resuming run {last.id} ({last.status}): {len(again)} tasks to run"


def _dry_run(run: _Gathered, request: RunRequest) -> RunReport:
    """What a run would do, task by task, assuming every task that runs succeeds."""
    names = run.names
    if request.resume and run.ledger.last_run() is not None:
        names, _ = _resume_names(run.ledger, run.dag, names, "")
    history = run.ledger.history(run.dag.names)
    produced: set[str] = set()
    plan = []
    for name in names:
        decision = decide(
            run.dag.tasks[name],
            fingerprint=run.fingerprints[name],
            history=history,
            upstream=run.dag.upstream(name),
            produced=produced,
            now=run.now,
            full_refresh=request.full_refresh,
        )
        if decision.run:
            produced.add(name)
        plan.append(PlannedTask(name, decision.run, decision.reason))
    return RunReport(None, RunState.SUCCESS, plan=plan, dry_run=True)
