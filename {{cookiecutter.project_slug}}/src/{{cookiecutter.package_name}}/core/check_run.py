"""Data checks without building anything: the ``test`` command, and the source checks of a run.

``test_pipeline`` runs the checks of the selected tasks against their published tables (and
the checks of the sources they read) and records them in the ledger as a run of its own.
``SourceGate`` runs the checks of the sources a run's tasks read, once, before any task
starts, and names the tasks that must not run because a source failed an error check.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from os import getpid
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from ..db.ledger import Ledger, RunRow, selection_json
from ..db.locks import run_lock_for
from ..db.models import CHECKS, TASKS
from ..errors import SettingsError, SQLLayerError
from ..settings import SETTINGS_FILE, Settings
from ..status import CHECK_FAILURES, CheckStatus, RunState, TaskState
from ..system import utcnow
from .dag import Dag
from .engines import run_engine
from .schema_check import require_head_fast

if TYPE_CHECKING:
    from ..sql.checks import Check, CheckOutcome

__all__ = [
    "SOURCE_PREFIX",
    "CheckedTable",
    "TestReport",
    "SourceGate",
    "source_checks",
    "test_pipeline",
]

# The ledger names a source's row ``source:<name>``, beside the task rows of the same run.
SOURCE_PREFIX = "source:"
_REASON_LIMIT = 255


@dataclass(frozen=True)
class CheckedTable:
    """The checks of one task (or one source, ``source:<name>``) and their outcomes."""

    name: str
    table: str
    outcomes: list[CheckOutcome]
    started_at: datetime
    finished_at: datetime

    @property
    def failed(self) -> list[CheckOutcome]:
        """The outcomes that fail: an error-severity check found rows, or a check could not run."""
        return [o for o in self.outcomes if o.status in CHECK_FAILURES]

    def summary(self) -> str:
        """``3 checks: 2 pass, 1 warn`` (what the ledger's reason column says)."""
        counts = {
            status: sum(1 for o in self.outcomes if o.status == status) for status in CheckStatus
        }
        said = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        checks = f"{len(self.outcomes)} check{'' if len(self.outcomes) == 1 else 's'}"
        return f"{checks}: {said or 'none'}"


@dataclass
class TestReport:
    """What ``test`` found: one entry per task or source checked; exit 1 on a failure."""

    run_id: str
    checked: list[CheckedTable] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # selected tasks without checks

    @property
    def exit_code(self) -> int:
        return 1 if any(item.failed for item in self.checked) else 0


def source_checks(settings: Settings, alias: str) -> list[Check]:
    """The checks of ``sources.<alias>``: its ``checks:`` list and its ``freshness:`` block.

    A check settings.yml spells wrong is a set-up problem: ``SettingsError`` with its line."""
    from ..sql.freshness import freshness

    source = settings.sources[alias]
    checks = _configured(settings, f"sources.{alias}", source.checks)
    block = source.freshness
    if block is not None:
        checks.append(
            freshness(block.column, warn_after=block.warn_after, error_after=block.error_after)
        )
    return checks


def task_checks(settings: Settings, dag: Dag, name: str) -> list[Check]:
    """A task's checks: the decorator's ``checks=[...]`` and ``tasks.<name>.checks``."""
    configured = settings.task_config(name).get("checks")
    return [*dag.tasks[name].checks, *_configured(settings, f"tasks.{name}", configured)]


def _configured(settings: Settings, key: str, items: object) -> list[Check]:
    """The checks settings.yml lists under ``key``; a misspelt one is a set-up problem
    (``SettingsError``, exit 2) naming the key and its line."""
    from ..sql.checks import checks_from_config

    try:
        return checks_from_config(items, where="checks")
    except SQLLayerError as exc:
        line = settings.key_lines.get(key)
        where = f"{key} (line {line})" if line else key
        raise SettingsError(str(settings.root / SETTINGS_FILE), [f"{where}: {exc}"]) from None


def sources_of(settings: Settings, names: Iterable[str]) -> list[str]:
    """The sources the tasks ``names`` read (``tasks.<name>.sources``), each once, in order."""
    found: dict[str, None] = {}
    for name in names:
        block = settings.tasks.get(name)
        found.update(dict.fromkeys(block.sources or () if block else ()))
    return list(found)


def run_checks(
    engine: Engine, name: str, table: str, checks: Sequence[Check], schema: str | None = None
) -> CheckedTable:
    """Run ``checks`` against ``table`` as it is now (nothing is built or written)."""
    started = utcnow()
    outcomes = [check.run(engine, default_table=table, schema=schema) for check in checks]
    return CheckedTable(name, table, outcomes, started, utcnow())


class SourceGate:
    """The source checks of a run: built (and their settings checked) before the run takes the
    lock, run once it holds it; ``blocked`` names the tasks that must not run."""

    def __init__(self, settings: Settings, names: Sequence[str]):
        self.settings = settings
        self.checks = {
            alias: source_checks(settings, alias) for alias in sources_of(settings, names)
        }

    def blocked(self, engine: Engine, run_id: str, names: Sequence[str]) -> dict[str, str]:
        """Check each source ``names`` read, record the results under ``run_id``, and return
        task -> why for each task that reads a source which failed an error check."""
        aliases = sources_of(self.settings, names)
        if not aliases:
            return {}  # the usual case: no need to load the SQL layer
        checked = {alias: self.check(engine, alias) for alias in aliases}
        record_checked(engine, run_id, list(checked.values()))
        blocked: dict[str, str] = {}
        for name in names:
            failing = [(a, checked[a].failed) for a in sources_of(self.settings, [name])]
            alias, failed = next(((a, f) for a, f in failing if f), (None, []))
            if failed:
                shown = ", ".join(_outcome_text(o) for o in failed)
                blocked[name] = _clip(f"source '{alias}' failed its checks: {shown}")
        return blocked

    def check(self, engine: Engine, alias: str) -> CheckedTable:
        """The checks of one source, against its table as it is now."""
        source = self.settings.sources[alias]
        checks = self.checks[alias]
        return run_checks(engine, SOURCE_PREFIX + alias, source.table, checks, source.schema_)


def _outcome_text(outcome: CheckOutcome) -> str:
    """``not_null(id): 3 rows``, or the check's own problem when it could not run."""
    if outcome.status == CheckStatus.ERROR:
        return f"{outcome.name} could not run"
    return f"{outcome.name}: {outcome.detail}" if outcome.detail else outcome.name


def _clip(text: str) -> str:
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 3] + "..."


def record_checked(engine: Engine, run_id: str, checked: Sequence[CheckedTable]) -> None:
    """One ``task_runs`` row per task or source checked, with its ``check_results``.

    Written directly, not through the run's writer: these rows are not executions of a task,
    so ``task_latest`` (which the cache and schedules read) is left alone."""
    with engine.begin() as conn:
        for item in checked:
            failed = item.failed
            row = {
                "run_id": run_id,
                "task": item.name,
                "attempt": 1,
                "status": TaskState.FAILED if failed else TaskState.SUCCESS,
                "reason": _clip(item.summary()),
                "started_at": item.started_at,
                "finished_at": item.finished_at,
                "duration_ms": int((item.finished_at - item.started_at).total_seconds() * 1000),
                "error": (
                    "data checks failed: " + ", ".join(o.name for o in failed) if failed else None
                ),
            }
            conn.execute(TASKS.insert(), [row])
            task_run_id = conn.scalar(
                select(TASKS.c.id).where(TASKS.c.run_id == run_id, TASKS.c.task == item.name)
            )
            if item.outcomes:
                conn.execute(
                    CHECKS.insert(), [_check_row(o, task_run_id, item) for o in item.outcomes]
                )


def _check_row(
    outcome: CheckOutcome, task_run_id: int | None, item: CheckedTable
) -> dict[str, object]:
    return {
        "task_run_id": task_run_id,
        "name": outcome.name[:255],
        "severity": str(outcome.severity),
        "status": str(outcome.status),
        "failing_rows": int(outcome.failing_rows or 0),
        "sample": outcome.sample,
        "checked_at": item.finished_at,
    }


def test_pipeline(
    settings: Settings,
    dag: Dag,
    run_id: str,
    select_: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> TestReport:
    """Run the checks of the selected tasks and of the sources they read against the published
    tables, holding the run lock (no run changes a table meanwhile); one ledger run records it."""
    names = dag.select(tuple(select_), tuple(exclude))
    checks = {name: task_checks(settings, dag, name) for name in names}
    gate = SourceGate(settings, names)  # a misspelt check stops the command before the lock
    engine = run_engine(settings)
    require_head_fast(settings, engine)
    report = TestReport(run_id, unchecked=[n for n in names if not checks[n]])
    lock, ledger = run_lock_for(engine), Ledger(engine)
    with lock:
        lock.acquire(run_id)
        ledger.open_run(_run_row(run_id, names, select_, exclude), utcnow())
        status = RunState.CRASHED
        try:
            report.checked = [gate.check(engine, alias) for alias in gate.checks]
            report.checked += [
                run_checks(engine, name, name, checks[name]) for name in names if checks[name]
            ]
            record_checked(engine, run_id, report.checked)
            status = RunState.FAILED if report.exit_code else RunState.SUCCESS
        finally:
            ledger.finish_run(run_id, status.value, utcnow())
    return report


def _run_row(
    run_id: str, names: Sequence[str], select_: Sequence[str], exclude: Sequence[str]
) -> RunRow:
    """The ``pipeline_runs`` row of a test: its selection says ``"command": "test"``."""
    selection = selection_json(
        command="test", tasks=list(names), select=list(select_), exclude=list(exclude)
    )
    now = utcnow()
    return {
        "id": run_id,
        "started_at": now,
        "heartbeat_at": now,
        "status": RunState.RUNNING.value,
        "selection": selection,
        "host": socket.gethostname(),
        "pid": getpid(),
        "code_version": None,
        "tasks_total": len(names),
    }
