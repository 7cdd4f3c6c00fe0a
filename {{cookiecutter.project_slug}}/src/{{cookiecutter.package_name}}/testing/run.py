"""``run_task``: one task of the project, its real code, injection, materialization and checks,
run by the engine on given input tables in a test database; the result holds what it wrote.

    result = run_task(db, "task_two", given={"predictions": rows})
    result.expect_rows([{"matchDate": "2022-12-30", "preds": "hw", "count_preds": 2}])
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, select

from ..core.dag import Dag
from ..core.report import RunObserver
from ..core.runner import load_dag, run_pipeline
from ..db.ledger_reads import checks_query, lineage_query
from ..db.models import TableAccess
from ..ingest.model import IngestModel
from ..settings import Settings, TaskSettings
from ..status import TaskState
from .database import PipelineDb
from .given import given_rows, write_given
from .rows import diff_rows, format_rows

__all__ = ["CheckResult", "TaskResult", "TaskTestError", "run_task"]


class TaskTestError(AssertionError):
    """A task test that failed: the message names the task, its given tables and what differs."""


@dataclass(frozen=True)
class CheckResult:
    """One data check of the task, as the run recorded it."""

    name: str
    severity: str
    status: str
    failing_rows: int


@dataclass
class TaskResult:
    """What one task did: its final state, error, the table it wrote and that table's rows,
    its checks, what it printed, and (for an ingest model) the rows it rejected."""

    task: str
    state: TaskState
    error: str | None
    table: str | None
    rows: list[dict[str, Any]]
    checks: list[CheckResult] = field(default_factory=list)
    printed: str = ""
    rejects: list[dict[str, Any]] = field(default_factory=list)
    given: Mapping[str, object] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the task succeeded (its checks included)."""
        return self.state == TaskState.SUCCESS

    def check(self, name: str) -> CheckResult:
        """The check called ``name`` (e.g. ``"unique(id)"``)."""
        for result in self.checks:
            if result.name == name:
                return result
        names = ", ".join(c.name for c in self.checks) or "none"
        raise TaskTestError(f"{self.task} has no check {name!r} (its checks: {names})")

    def expect_rows(
        self, expected: Sequence[Mapping[str, Any]] | None, key: Sequence[str] | None = None
    ) -> None:
        """Fail unless the task succeeded and wrote exactly ``expected`` (on the columns it
        names, in any order); ``None`` expects a task that writes no table."""
        __tracebackhide__ = True
        if not self.ok:
            raise TaskTestError(self._report(f"the task ended {self.state}:\n{self.error}"))
        if expected is None:
            if self.table is not None:
                raise TaskTestError(self._report(f"expected no output, it wrote {self.table}"))
            return
        if self.table is None:
            raise TaskTestError(self._report("expected rows, but the task wrote no table"))
        diff = diff_rows(self.rows, expected, key)
        if diff:
            raise TaskTestError(
                self._report(f"its table {self.table} differs from the expected rows:\n{diff}")
            )

    def _report(self, what: str) -> str:
        given = "\n".join(
            f"given {name}:\n{_shown_given(name, value)}" for name, value in self.given.items()
        )
        return f"task {self.task}: {what}\n{given}".rstrip()


def run_task(
    db: PipelineDb,
    name: str,
    given: Mapping[str, object] | None = None,
    config: Mapping[str, Any] | None = None,
) -> TaskResult:
    """Run task ``name`` alone on the ``given`` tables (an ingest model: its source file's
    content) with ``config`` as its settings.yml block, and return what it did."""
    given = dict(given or {})
    dag = load_dag(db.settings)
    if name not in dag:
        close = difflib.get_close_matches(name, list(dag.tasks), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise TaskTestError(
            f"no task is named '{name}'{hint} (tasks: {', '.join(sorted(dag.tasks))})"
        )
    settings = _configured(db.settings, name, config)
    model = _ingest_model(dag, name)
    if model is not None:
        _replace_source(model, given, db.workdir)
    else:
        for table, value in given.items():
            write_given(db.engine, table, value)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        report = run_pipeline(
            settings,
            select=(name,),
            full_refresh=True,
            workers=1,
            executor="threads",
            observer=RunObserver(),
            dag=dag,
        )
    state = report.tasks.get(name, TaskState.SKIPPED)
    result = TaskResult(name, state, report.errors.get(name), None, [], printed=printed.getvalue())
    result.given = given
    _read_outputs(db, report.run_id, result, model)
    return result


def _configured(settings: Settings, name: str, config: Mapping[str, Any] | None) -> Settings:
    if config is None:
        return settings
    tasks = {**settings.tasks, name: TaskSettings.model_validate(dict(config))}
    return settings.model_copy(update={"tasks": tasks})


def _ingest_model(dag: Dag, name: str) -> type[IngestModel] | None:
    wrapped = getattr(dag.tasks[name].func, "__wrapped__", None)
    return wrapped if isinstance(wrapped, type) and issubclass(wrapped, IngestModel) else None


def _replace_source(model: type[IngestModel], given: Mapping[str, object], workdir: Path) -> None:
    """An ingest model reads its given file instead of its source's: ``{"any/name.csv": rows or
    text}`` (rows become a CSV file with a header). This class is the discovery's fresh import,
    used by this run only."""
    if len(given) != 1:
        raise TaskTestError(
            f"{model.__model_name__} is an ingest model: give exactly one entry, its source "
            f"file's content, e.g. given={{'input.csv': rows}}"
        )
    ((relative, content),) = given.items()
    path = workdir / "given" / relative
    source = model.__source__.reading(path)
    if source is None:
        raise TaskTestError(
            f"{model.__model_name__} reads {model.__source__!r}, not a file: a task test cannot "
            f"give it content; test the method that produces its records directly"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_file_text(content), encoding="utf-8")
    model.__source__ = source


def _file_text(content: object) -> str:
    if isinstance(content, str):
        return content
    rows = list(content)  # type: ignore[call-overload]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _read_outputs(
    db: PipelineDb, run_id: str | None, result: TaskResult, model: type[IngestModel] | None
) -> None:
    """The table the task wrote (from the run's lineage), its rows, checks and rejects."""
    if run_id is None:
        return
    with db.engine.connect() as conn:
        written = [
            row.table_name
            for row in conn.execute(lineage_query(run_id))
            if row.task == result.task and row.access == TableAccess.WRITE
        ]
        checks = conn.execute(checks_query(run_id)).all()
    result.checks = [
        CheckResult(row.name, row.severity, row.status, row.failing_rows or 0)
        for row in sorted(checks, key=lambda row: (row.attempt, row.name))
        if row.task == result.task
    ]
    result.table = written[0] if written else None
    if result.table is not None:
        result.rows = table_rows(db, result.table)
    if model is not None:
        result.rejects = table_rows(db, "etl_rejects", ("record", "line", "field", "reason"))


def table_rows(
    db: PipelineDb, table: str, columns: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Every row of ``table`` in the test database, as dicts, ordered by its columns."""
    target = Table(table, MetaData(), autoload_with=db.engine)
    picked = [target.c[c] for c in columns] if columns else list(target.c)
    with db.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(*picked).order_by(*picked))]


def _shown_given(name: str, value: object) -> str:
    if isinstance(value, str):  # an ingest model's source text
        return "\n".join(f"  {line}" for line in value.splitlines())
    return format_rows(given_rows(name, value))
