"""``run_pipeline``: discover, validate, lock, plan and run, with every step in the ledger.

    report = run_pipeline(load_settings(), select=["task_two+"], workers=8)
    sys.exit(report.exit_code)

The order matters: definitions and the schema are checked before the lock is taken (a bad
model never blocks anyone), and runs left 'running' by a dead process are marked crashed only
once this run holds the lock (so they cannot be alive).
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect

from .. import __version__
from ..db.engine import engine_from_settings
from ..db.ledger import Ledger, LedgerWriter, TaskHistory, selection_json
from ..db.locks import run_lock_for
from ..faults import crash_point
from ..settings import Settings
from ..status import RunState, TaskState
from ..system import utcnow
from .attempt import register_engine
from .cache import clear_source_cache, fingerprints
from .context import forget_run
from .dag import Dag
from .discovery import discover
from .execution import Execution
from .executors import Executor, ThreadExecutor
from .planner import decide
from .report import LogObserver, PlannedTask, RunObserver, RunReport
from .schema_check import require_head_fast

__all__ = ["load_dag", "new_run_id", "run_pipeline"]


def load_dag(settings: Settings) -> Dag:
    """The project's tasks, discovered and validated (``DefinitionError`` lists every problem)."""
    clear_source_cache()
    return Dag.from_tasks(discover(settings), root=settings.root)


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: UTC time plus random suffix."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def run_pipeline(
    settings: Settings,
    *,
    select: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    workers: int | None = None,
    full_refresh: bool = False,
    resume: bool = False,
    fail_fast: bool = False,
    dry_run: bool = False,
    executor: Executor | str | None = None,
    now: datetime | None = None,
    observer: RunObserver | None = None,
    dag: Dag | None = None,
) -> RunReport:
    """Run the selected tasks of the project and return the report (see module docstring)."""
    dag = dag or load_dag(settings)
    names = dag.select(select, exclude)
    executor = _executor(settings, executor)
    engine = _engine(settings)
    require_head_fast(settings, engine)
    ledger = Ledger(engine)
    now = now or utcnow()
    prints = fingerprints(dag, settings.task_config)
    if dry_run:
        return _dry_run(dag, names, prints, ledger, now, full_refresh, resume)
    options = {
        "select": list(select or ()),
        "exclude": list(exclude or ()),
        "full_refresh": full_refresh,
        "resume": resume,
        "fail_fast": fail_fast,
    }
    return _locked_run(
        settings,
        engine,
        dag,
        names,
        prints,
        now,
        options,
        workers or settings.executor.workers,
        executor,
        observer or LogObserver(),
    )


_engines: dict[str, Engine] = {}


def _engine(settings: Settings) -> Engine:
    """The engine of the last run when this run is on the same database, else a new one.

    Reusing it saves reconnecting (and, on SQLite, a WAL checkpoint when the last connection
    closes) on every run of a long-lived process; the previous database's engine is closed.
    """
    url = settings.database_url.render_as_string(hide_password=False)
    engine = _engines.get(url)
    if engine is None:
        for old in _engines.values():
            old.dispose()
        _engines.clear()
        engine = _engines[url] = engine_from_settings(settings)
    return engine


def _locked_run(
    settings: Settings,
    engine: Engine,
    dag: Dag,
    names: list[str],
    prints: dict[str, str],
    now: datetime,
    options: dict[str, Any],
    workers: int,
    executor: Executor | None,
    observer: RunObserver,
) -> RunReport:
    ledger, run_id = Ledger(engine), new_run_id()
    stages = _stages(settings, engine, dag, names)
    with run_lock_for(engine) as lock:
        lock.acquire(run_id)
        _clean_leftovers(engine)
        if stages is not None:
            stages.publish = _publisher(engine, lock)
        message = None
        if options["resume"]:
            ledger.mark_crashed(utcnow(), keep=run_id)  # the run to resume may have crashed
            names, message = _resume_names(ledger, dag, names, run_id)
        ledger.open_run(_run_row(run_id, names, options, settings.root), utcnow())
        url = settings.database_url.render_as_string(hide_password=False)
        register_engine(url, engine)
        execution = {
            "dag": dag,
            "names": names,
            "fingerprints": prints,
            "history": ledger.history(),
            "config_of": settings.task_config,
            "run_id": run_id,
            "database_url": url,
            "workers": workers,
            "observer": observer,
            "now": now,
            "full_refresh": options["full_refresh"],
            "fail_fast": options["fail_fast"],
            "settings_path": str(settings.root / "settings.yml"),
            "stages": stages,
        }
        report = _execute(ledger, executor or ThreadExecutor(workers), execution)
        report.message = message
    observer.run_finished(report)
    return report


def _execute(ledger: Ledger, pool: Executor, execution: dict[str, Any]) -> RunReport:
    """Run the loop with its executor and ledger writer, and close the run whatever happens."""
    run_id = execution["run_id"]
    pool.start(execution["workers"])
    writer = LedgerWriter(ledger.engine, run_id)
    status = RunState.CRASHED
    try:
        execution["observer"].run_started(run_id, len(execution["names"]))
        report = Execution(executor=pool, writer=writer, **execution).run()
        crash_point("runner.before_finish")
        _clean_leftovers(ledger.engine, stages_only=True)  # abandoned stages' shadows
        status = report.status
    finally:
        pool.shutdown(wait=False)  # idle by now, or left with tasks told to stop
        writer.close()
        if status == RunState.CRASHED:
            ledger.close_open_rows(run_id, utcnow())
        ledger.finish_run(run_id, status.value, utcnow())
        forget_run(run_id)
    return report


def _run_row(run_id: str, names: list[str], options: dict[str, Any], root: Path) -> dict[str, Any]:
    return {
        "id": run_id,
        "started_at": utcnow(),
        "heartbeat_at": utcnow(),
        "status": RunState.RUNNING.value,
        "selection": selection_json(tasks=names, **options),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "code_version": _code_version(root),
        "tasks_total": len(names),
    }


def _executor(settings: Settings, executor: Executor | str | None) -> Executor | None:
    """An executor object, from ``executor`` itself or the kind it (or settings.yml) names."""
    if isinstance(executor, Executor):
        return executor
    if (executor or settings.executor.kind) == "threads":
        return None
    from .dask_executor import executor_from_settings  # dask is an optional extra

    return executor_from_settings(settings, executor)


def _stages(settings: Settings, engine: Engine, dag: Dag, names: list[str]) -> Any:
    """The run's ``StageRun``, checked before anything runs (None when no task has a stage)."""
    if not settings.stages and not any(dag.tasks[name].stage for name in names):
        return None  # the usual case: no need to load the SQL layer
    from ..sql.stages import StageRun, stage_members

    members = stage_members(dag.tasks, settings.stages)
    if not any(name in members for name in names):
        return None
    stages = StageRun(members, names, publish=lambda targets: [])
    stages.check(engine, settings.task_config)
    stages.upstream({name: dag.upstream(name) for name in names})
    return stages


def _publisher(engine: Engine, lock: Any) -> Any:
    """Publishes a stage's tables, re-checking the run lock just before the swap."""
    from ..sql.stages import publish_stage

    return lambda targets: publish_stage(engine, targets, check_lock=lock.verify)


def _clean_leftovers(engine: Engine, stages_only: bool = False) -> None:
    """Drop the shadow tables a killed or failed run left (this run holds the lock)."""
    inspector = inspect(engine)
    names = [*inspector.get_table_names(), *inspector.get_view_names()]
    if not any("__pl_" in name for name in names):
        return  # the usual case: no need to load the SQL layer
    from ..sql.materialize import clean_leftovers
    from ..sql.stages import clean_stage_leftovers

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


def _resume_names(
    ledger: Ledger, dag: Dag, names: list[str], run_id: str
) -> tuple[list[str], str | None]:
    """The failed and never-started tasks of the last run (still in the selection)."""
    last = ledger.last_run(exclude=run_id)
    if last is None:
        return names, "no earlier run to resume: running the selection"
    asked = json.loads(last.selection or "{}").get("tasks") or []
    states = ledger.final_states(last.id)
    done = {TaskState.SUCCESS.value, TaskState.SKIPPED.value}
    wanted = set(names)
    again = [n for n in dag.names if n in asked and n in wanted and states.get(n) not in done]
    return again, f"resuming run {last.id} ({last.status}): {len(again)} tasks to run"


def _dry_run(
    dag: Dag,
    names: list[str],
    prints: dict[str, str],
    ledger: Ledger,
    now: datetime,
    full_refresh: bool,
    resume: bool,
) -> RunReport:
    """What a run would do, task by task, assuming every task that runs succeeds."""
    if resume:
        last = ledger.last_run()
        if last is not None:
            names, _ = _resume_names(ledger, dag, names, "")
    history: dict[str, TaskHistory] = ledger.history()
    produced: set[str] = set()
    plan = []
    for name in names:
        decision = decide(
            dag.tasks[name],
            fingerprint=prints[name],
            history=history,
            upstream=dag.upstream(name),
            produced=produced,
            now=now,
            full_refresh=full_refresh,
        )
        if decision.run:
            produced.add(name)
        plan.append(PlannedTask(name, decision.run, decision.reason))
    return RunReport(None, RunState.SUCCESS, plan=plan, dry_run=True)
