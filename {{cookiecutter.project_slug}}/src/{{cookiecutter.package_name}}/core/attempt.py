"""One attempt of one task, as a plain picklable call: ``run_attempt(AttemptCall) -> Outcome``.

This is the only code that runs on a worker. It injects what the task asks for, calls it, hands
a returned value to the SQL layer's output hook (materialization and checks) and reports back;
it never touches the run ledger, so any executor can run it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import time
import traceback
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from ..db.ledger_reads import published_version
from ..db.locks import running_as
from ..sql.lineage import TablesSeen, recording, written_table
from ..system import utcnow
from .cache import output_fingerprint
from .context import RunContext
from .engines import engine_for
from .lineage import undeclared_reads
from .task import Task

if TYPE_CHECKING:
    from ..db.ledger_rows import CheckRow, TableRow
    from ..settings import Settings
    from ..sql.checks import CheckOutcome
    from ..sql.outputs import OutputResult
    from ..sql.session import Session

__all__ = ["AttemptCall", "AttemptOutcome", "run_attempt"]


@dataclass(slots=True)
class AttemptCall:
    """Everything a worker needs to run one attempt."""

    task: Task
    run_id: str
    attempt: int
    config: dict[str, Any]  # the task's block of settings.yml, as written there
    database_url: str
    previous_output: str | None = None  # output fingerprint of the last success, when reusable
    target: str | None = None  # the table to build instead of the task's name (a stage's shadow)
    reads: tuple[tuple[str, str], ...] = ()  # (table, shadow) its stage built so far in this run
    settings: Settings | None = None  # the run's settings, for sessions that read ``sources:``
    writers: Mapping[str, str] = field(default_factory=dict)  # table -> the task writing it
    allowed: Collection[str] = frozenset()  # its ancestors: whose tables it may read
    strict: bool = False  # an undeclared read fails the attempt (``run --strict``)


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
    checks: list[CheckRow] = field(default_factory=list)
    warning: str | None = None  # e.g. the task returned a value that nothing stores
    tables: list[TableRow] = field(default_factory=list)  # lineage: tables read, written


def run_attempt(call: AttemptCall) -> AttemptOutcome:
    """Run the task once; any exception it raises becomes a failed outcome with its traceback."""
    started, clock = utcnow(), time.perf_counter()
    outcome = AttemptOutcome(call.task.name, call.attempt, False, started, started, 0)
    seen = TablesSeen()
    try:
        with running_as(call.run_id):  # its table swaps first check the run still holds the lock
            with recording(seen):
                result = call.task.func(**_injected(call))
                if inspect.iscoroutine(result):  # an `async def` task runs to completion here
                    result = asyncio.run(result)
            _after_call(call, result, outcome, seen)
    except Exception as exc:  # user code: every failure is recorded, never raised here
        outcome.ok, outcome.error = False, _format_error(exc)
    else:
        if outcome.error is None:
            outcome.ok = True
    outcome.tables = seen.rows()
    outcome.finished_at = utcnow()
    outcome.duration_ms = int((time.perf_counter() - clock) * 1000)
    return outcome


def _after_call(
    call: AttemptCall, result: object, outcome: AttemptOutcome, seen: TablesSeen
) -> None:
    """Reads of tables the task does not depend on warn (or, strict, fail before anything is
    published); then the output is stored and the table written noted."""
    undeclared = undeclared_reads(call.task.name, seen.reads, call.writers, call.allowed)
    if undeclared and call.strict:
        outcome.error = undeclared
        return
    _handle_output(call, result, outcome)
    outcome.warning = "; ".join(filter(None, (undeclared, outcome.warning))) or None
    if outcome.error is None:  # a build its checks refused is not published
        seen.writes.update(filter(None, [written_table(result, call.task.name)]))


def _injected(call: AttemptCall) -> dict[str, object]:
    wanted, provided = call.task.injected, call.task.provided
    if not wanted and not provided:
        return {}
    values: dict[str, object] = {}
    if "config" in wanted:
        values["config"] = dict(call.config)
    if "engine" in wanted:
        values["engine"] = engine_for(call.database_url)
    if "session" in wanted:
        values["session"] = _session(call)
    if "run" in wanted:
        logger = logging.getLogger(f"pipeline.task.{call.task.name}")
        values["run"] = RunContext(
            call.run_id, call.task.name, call.attempt, logger, settings=call.settings
        )
    if provided:  # pydwt's Provide[Container.config...] defaults, from the run's settings
        from .containers import resolve_provided

        values.update(resolve_provided(provided, call.settings, call.task.name, call.config))
    return values


def _session(call: AttemptCall) -> Session:
    from ..sql.session import Session

    if call.reads:  # a staged task reads the tables its stage built so far from their shadows
        from ..sql.stage_tables import StageSession

        engine = engine_for(call.database_url)
        return StageSession(engine, dict(call.reads), settings=call.settings)
    return Session(engine_for(call.database_url), settings=call.settings)


def _handle_output(call: AttemptCall, result: object, outcome: AttemptOutcome) -> None:
    """Give a returned value (and the task's checks) to the SQL layer's output hook."""
    has_checks = bool(call.task.checks or call.config.get("checks"))
    if result is None and not has_checks:
        return
    from ..sql import outputs  # loaded only when a task hands the SQL layer something

    query = outputs.output_fingerprint(result)
    fingerprint = output_fingerprint(query, call.config)
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
        table=call.task.name,
    )
    outcome.rows_affected = handled.rows_affected
    if result is not None and query is None and handled.rows_affected is None:
        outcome.warning = _not_stored(result)
    outcome.checks = [_check_row(check) for check in handled.checks]
    if handled.failed:
        outcome.error = _checks_failed(call, handled)


def _checks_failed(call: AttemptCall, handled: OutputResult) -> str:
    """E.g. ``team_report: 1 check failed (row_count(min=500): 20 rows); published table
    unchanged (version 3); the rejected build is in team_report__rejected``."""
    failing = [check for check in handled.checks if check.failed]
    counted = f"{len(failing)} check{'' if len(failing) == 1 else 's'} failed"
    details = ", ".join(f"{c.name}: {c.detail}" if c.detail else c.name for c in failing)
    message = f"{call.task.name}: {counted} ({details})"
    if handled.rejected is None:
        return message
    kind = "view" if call.config.get("materialize") == "view" else "table"
    try:
        with engine_for(call.database_url).connect() as conn:
            version: int | None = published_version(conn, call.task.name)
    except SQLAlchemyError:  # a database without the run ledger: the version is unknown
        version = None
    if version == 0:
        kept = f"no {kind} was published"
    else:
        kept = f"published {kind} unchanged" + ("" if version is None else f" (version {version})")
    return f"{message}; {kept}; the rejected build is in {handled.rejected}"


def _not_stored(result: object) -> str:
    kind = type(result)
    top = kind.__module__.partition(".")[0]
    if kind.__module__ == "builtins":
        shown = kind.__qualname__
    elif getattr(sys.modules.get(top), kind.__qualname__, None) is kind:
        shown = f"{top}.{kind.__qualname__}"  # as users import it: pandas.DataFrame
    else:
        shown = f"{kind.__module__}.{kind.__qualname__}"
    article = "an" if shown[:1].lower() in "aeiou" else "a"
    return (
        f"returned {article} {shown}, which is not stored (only the package's DataFrame is "
        f"materialized; return None if nothing is to be kept)"
    )


def _check_row(check: CheckOutcome) -> CheckRow:
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
