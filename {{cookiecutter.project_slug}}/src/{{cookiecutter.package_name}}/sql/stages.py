"""Stages: tables built under shadow names and published together, or not at all.

A task joins a stage with ``@Task(stage="marts")`` or through settings.yml's ``stages:`` block.
While a run builds a stage, each task's table lives under ``<name>__pl_stage``; when every task
of the stage has succeeded, all of them replace their targets at once (MySQL: one ``RENAME
TABLE`` statement; SQLite and PostgreSQL: one transaction). If any task of the stage fails, or
the run dies, nothing of the stage is published and the previous tables stay readable; the
shadows left behind are dropped by the next run.

Tasks outside a stage that read from it start only after it is published, so downstream tasks,
stages and the dashboard never see a mix of old and new tables of one stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from graphlib import CycleError as GraphCycle
from graphlib import TopologicalSorter
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from ..errors import DefinitionError, SQLLayerError
from ..faults import crash_point
from .dataframe import DataFrame
from .ddl import STAGE_SUFFIX, check_name
from .materialize import swap_in
from .session import Session

__all__ = [
    "STAGE_SUFFIX",
    "StageRun",
    "StageSession",
    "clean_stage_leftovers",
    "publish_stage",
    "shadow_name",
    "stage_members",
]


def shadow_name(name: str) -> str:
    """Where a staged task's table is built before its stage is published."""
    return name + STAGE_SUFFIX


def stage_members(tasks: Mapping[str, Any], stages: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Each staged task's stage, from ``@Task(stage=...)`` and settings.yml's ``stages:``.

    Raises ``DefinitionError`` listing every task named twice or not defined.
    """
    found: dict[str, str] = {
        name: task.stage for name, task in tasks.items() if getattr(task, "stage", None)
    }
    problems = []
    for stage, names in stages.items():
        for name in names:
            if name not in tasks:
                problems.append(f"stages.{stage} names '{name}', which is not a task")
            elif found.get(name, stage) != stage:
                problems.append(
                    f"task '{name}' is in stage '{found[name]}' and in stages.{stage}; "
                    f"a task belongs to one stage"
                )
            else:
                found[name] = stage
    if problems:
        raise DefinitionError(problems, where="settings.yml")
    return found


class StageSession(Session):
    """A session for a staged task: tables its stage already built in this run are read from
    their shadows, so a task sees its own stage's new tables before they are published."""

    def __init__(self, engine: Engine, shadows: Mapping[str, str], **options: Any):
        super().__init__(engine, **options)
        self.shadows = dict(shadows)

    def table(self, name: str, *, schema: str | None = None) -> DataFrame:
        return super().table(self.shadows.get(name, name), schema=schema)


def publish_stage(
    engine: Engine,
    targets: Iterable[str],
    *,
    schema: str | None = None,
    check_lock: Callable[[], None] | None = None,
) -> list[str]:
    """Replace every target whose shadow was built, all at once; returns the published names.

    ``check_lock`` runs just before the swap and raises if this run no longer holds the run
    lock, so a run that lost it publishes nothing.
    """
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names(schema=schema))
    pairs = [(shadow_name(t), t) for t in targets if shadow_name(t) in present]
    crash_point("stage.before_publish")
    if check_lock is not None:
        check_lock()
    if pairs:
        swap_in(engine, pairs, schema=schema)
    crash_point("stage.after_publish")
    return [target for _, target in pairs]


def clean_stage_leftovers(engine: Engine, *, schema: str | None = None) -> list[str]:
    """Drop the shadows of stages a failed or killed run never published."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        found = [t for t in inspector.get_table_names(schema=schema) if t.endswith(STAGE_SUFFIX)]
    preparer = engine.dialect.identifier_preparer
    for name in found:
        with engine.begin() as conn:
            quoted = preparer.quote(name)
            target = f"{preparer.quote_schema(schema)}.{quoted}" if schema else quoted
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {target}")
    return found


@dataclass
class _Built:
    attempt: int
    row: dict[str, Any]


# record(name, attempt, status, reason, row): the final ledger state of a built task
Recorder = Callable[[str, int, str, str | None, dict[str, Any]], None]


@dataclass
class StageRun:
    """The stages of one run: who belongs where, what is built, and when each one publishes.

    ``publish(targets)`` swaps the built shadows in; ``record`` receives the final state of
    every built task once its stage is decided (success after the swap, else cancelled).
    """

    members: Mapping[str, str]
    selected: Iterable[str]
    publish: Callable[[list[str]], list[str]]
    record: Recorder | None = None
    _todo: dict[str, set[str]] = field(init=False)
    _built: dict[str, dict[str, _Built]] = field(init=False)
    _failed: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.selected = list(self.selected)
        self._todo = {}
        for name in self.selected:
            stage = self.members.get(name)
            if stage:
                self._todo.setdefault(stage, set()).add(name)
        self._built = {stage: {} for stage in self._todo}
        self._failed = {}

    def stage_of(self, name: str) -> str | None:
        """The stage of a selected task, or None."""
        stage = self.members.get(name)
        return stage if stage in self._todo else None

    def target(self, name: str) -> str | None:
        """The shadow table a staged task materializes into during this run (else None)."""
        return shadow_name(name) if self.stage_of(name) else None

    def reads(self, name: str) -> tuple[tuple[str, str], ...]:
        """(table, shadow) of the tables ``name``'s stage has built so far in this run."""
        stage = self.stage_of(name)
        built = self._built.get(stage, {}) if stage else {}
        return tuple((task, shadow_name(task)) for task in sorted(built))

    def upstream(self, upstream: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
        """The graph the run follows: a task that reads a stage it is not part of waits for
        all of it, since the stage is published just before such a task may start."""
        result = {}
        for name, parents in upstream.items():
            mine, extra = self.stage_of(name), []
            for parent in parents:
                stage = self.stage_of(parent)
                if stage and stage != mine:
                    extra += sorted(self._todo[stage])
            result[name] = list(dict.fromkeys([*parents, *extra]))
        try:
            TopologicalSorter(result).prepare()
        except GraphCycle as exc:
            cycle = " -> ".join(exc.args[1])
            raise DefinitionError(
                [
                    f"stages form a cycle: {cycle}; a task outside a stage that reads the stage "
                    f"cannot feed a task inside it (move it into the stage, or out of the path)"
                ]
            ) from exc
        return result

    def check(self, engine: Engine, config_of: Callable[[str], Mapping[str, Any]]) -> None:
        """Refuse staged tasks a stage cannot publish: views, increments, names too long."""
        problems = []
        for stage, names in sorted(self._todo.items()):
            for name in sorted(names):
                form = config_of(name).get("materialize") or "table"
                if form != "table":
                    problems.append(
                        f"task '{name}' is in stage '{stage}' but materializes as {form}; "
                        f"a stage publishes tables: set `materialize: table` or leave the stage"
                    )
                try:
                    check_name(engine, shadow_name(name))
                except SQLLayerError as exc:
                    problems.append(f"task '{name}' in stage '{stage}': {exc}")
        if problems:
            raise DefinitionError(problems)

    def built(self, name: str, attempt: int, row: dict[str, Any]) -> None:
        """A staged task succeeded: its table waits in its shadow until the stage is done."""
        stage = self.members[name]
        if stage in self._failed:
            self._record(name, _Built(attempt, row), "cancelled", self._failed[stage])
            return
        self._built[stage][name] = _Built(attempt, row)

    def satisfied(self, name: str) -> bool:
        """A staged task is done (built or skipped); the last one publishes the stage.

        False when publishing failed: the stage is abandoned and nothing of it was published.
        """
        stage = self.stage_of(name)
        if stage is None or stage in self._failed:
            return stage is None
        todo = self._todo[stage]
        todo.discard(name)
        if todo:
            return True
        built = self._built.pop(stage)
        try:
            self.publish(sorted(built))
        except SQLAlchemyError as exc:
            reason = f"stage '{stage}' could not be published: {_first_line(exc)}"
            self._failed[stage] = reason
            for task, done in sorted(built.items()):
                self._record(task, done, "failed", reason)
            return False
        for task, done in sorted(built.items()):
            self._record(task, done, "success", done.row.get("reason"))
        return True

    def failed(self, name: str, why: str) -> None:
        """A task of the stage will not succeed in this run: abandon the stage."""
        stage = self.stage_of(name)
        if stage is None or stage in self._failed:
            return
        reason = f"discarded: stage '{stage}' was not published ({why})"
        self._failed[stage] = reason
        for task, done in sorted(self._built.pop(stage, {}).items()):
            self._record(task, done, "cancelled", reason)

    def abandon(self, why: str) -> None:
        """The run is ending: every stage not published yet is abandoned."""
        for stage, built in sorted(self._built.items()):
            if built:
                self.failed(min(built), why)

    def _record(self, name: str, done: _Built, status: str, reason: str | None) -> None:
        if self.record is not None:
            row = {k: v for k, v in done.row.items() if k != "reason"}
            self.record(name, done.attempt, status, reason, row)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
