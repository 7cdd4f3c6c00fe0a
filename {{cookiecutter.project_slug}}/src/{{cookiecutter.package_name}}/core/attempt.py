"""One attempt of one task, as a plain picklable call: ``run_attempt(AttemptCall) -> Outcome``.

This is the only code that runs on a worker. It injects what the task asks for, calls it, hands
a returned value to the SQL layer's output hook (materialization and checks) and reports back;
it never touches the run ledger, so any executor can run it.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from ..db.locks import running_as
from ..errors import PipelineError
from ..system import utcnow
from .context import RunContext
from .task import Task

__all__ = ["AttemptCall", "AttemptOutcome", "register_engine", "run_attempt"]

_engines: dict[str, Engine] = {}
_settings: dict[str, Any] = {}
_engines_lock = threading.Lock()


@dataclass(slots=True)
class AttemptCall:
    """Everything a worker needs to run one attempt."""

    task: Task
    run_id: str
    attempt: int
    config: dict[str, Any]
    database_url: str
    previous_output: str | None = None  # output fingerprint of the last success, when reusable
    target: str | None = None  # the table to build instead of the task's name (a stage's shadow)
    reads: tuple[tuple[str, str], ...] = ()  # (table, shadow) its stage built so far in this run
    settings_path: str | None = None  # settings.yml, for sessions that read ``sources:``


@dataclass
class AttemptOutcome:
    """What happened: the engine turns it into a ``task_runs`` row (and ``check_results``)."""

    task: str
    attempt: int
    ok: bool
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    error: str | None = None
    rows_affected: int | None = None
    output_fingerprint: str | None = None
    reused: bool = False
    checks: list[dict[str, Any]] = field(default_factory=list)


def register_engine(database_url: str, engine: Engine) -> None:
    """Let attempts in this process share ``engine`` instead of building their own."""
    with _engines_lock:
        _engines[database_url] = engine


def engine_for(database_url: str) -> Engine:
    """The engine registered for this URL, or a new one (on a worker in another process)."""
    with _engines_lock:
        engine = _engines.get(database_url)
        if engine is None:
            from ..db.engine import make_engine

            engine = _engines[database_url] = make_engine(database_url)
        return engine


def run_attempt(call: AttemptCall) -> AttemptOutcome:
    """Run the task once; any exception it raises becomes a failed outcome with its traceback."""
    started, clock = utcnow(), time.perf_counter()
    outcome = AttemptOutcome(call.task.name, call.attempt, False, started, started, 0)
    try:
        with running_as(call.run_id):  # its table swaps first check the run still holds the lock
            result = call.task.func(**_injected(call))
            if inspect.iscoroutine(result):  # an `async def` task runs to completion here
                result = asyncio.run(result)
            _handle_output(call, result, outcome)
    except Exception as exc:  # user code: every failure is recorded, never raised here
        outcome.ok, outcome.error = False, _format_error(exc)
    else:
        if outcome.error is None:
            outcome.ok = True
    outcome.finished_at = utcnow()
    outcome.duration_ms = int((time.perf_counter() - clock) * 1000)
    return outcome


def _injected(call: AttemptCall) -> dict[str, Any]:
    wanted = call.task.injected
    if not wanted:
        return {}
    values: dict[str, Any] = {}
    if "config" in wanted:
        values["config"] = dict(call.config)
    if "engine" in wanted:
        values["engine"] = engine_for(call.database_url)
    if "session" in wanted:
        values["session"] = _session(call)
    if "run" in wanted:
        logger = logging.getLogger(f"pipeline.task.{call.task.name}")
        values["run"] = RunContext(call.run_id, call.task.name, call.attempt, logger)
    return values


def _session(call: AttemptCall) -> Any:
    from ..sql.session import Session

    settings = _settings_for(call.settings_path)
    if call.reads:  # a staged task reads the tables its stage built so far from their shadows
        from ..sql.stages import StageSession

        return StageSession(engine_for(call.database_url), dict(call.reads), settings=settings)
    return Session(engine_for(call.database_url), settings=settings)


def _settings_for(path: str | None) -> Any:
    if path is None:
        return None
    with _engines_lock:
        settings = _settings.get(path)
        if settings is None:
            from ..settings import load_settings

            settings = _settings[path] = load_settings(path)
        return settings


def _handle_output(call: AttemptCall, result: Any, outcome: AttemptOutcome) -> None:
    """Give a returned value (and the task's checks) to the SQL layer's output hook."""
    has_checks = bool(call.task.checks or call.config.get("checks"))
    if result is None and not has_checks:
        return
    try:
        from ..sql import outputs
    except ImportError as exc:
        raise PipelineError(
            f"task '{call.task.name}' returned {type(result).__name__} or has checks, but the "
            "SQL layer (sql/outputs.py) is not available to store it"
        ) from exc
    query = outputs.output_fingerprint(result)
    fingerprint = hashlib.sha256(query.encode()).hexdigest() if query is not None else None
    outcome.output_fingerprint = fingerprint
    if fingerprint is not None and fingerprint == call.previous_output and not has_checks:
        outcome.reused = True  # same query over unchanged inputs: the stored table is current
        return
    handled = outputs.handle_output(
        result,
        task_name=call.target or call.task.name,
        task_config=dict(call.config),
        checks=call.task.checks,
        session=_session(call),
    )
    outcome.rows_affected = handled.rows_affected
    outcome.checks = [_check_row(check) for check in handled.checks]
    if handled.failed:
        failing = [c["name"] for c in outcome.checks if c["status"] in ("fail", "error")]
        outcome.error = "data checks failed: " + ", ".join(failing or ["(see check results)"])


def _check_row(check: Any) -> dict[str, Any]:
    return {
        "name": str(check.name),
        "severity": str(check.severity),
        "status": str(check.status),
        "failing_rows": int(check.failing_rows or 0),
        "sample": check.sample,
    }


def _format_error(exc: BaseException) -> str:
    """``Type: message`` first (what the CLI shows), then the traceback."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"{type(exc).__name__}: {exc}\n{text}"
