"""Stages: tables built under shadow names and published together, or not at all.

A task joins a stage with ``@Task(stage="marts")`` or through settings.yml's ``stages:`` block.
``StageRun`` is the run's side of it: who belongs where, what is built, when a stage publishes
(the SQL of building and swapping shadows is ``sql/stage_tables.py``). If any task of the stage
fails, or the run dies, nothing of the stage is published and the previous tables stay readable.

Tasks outside a stage that read from it start only after it is published, so downstream tasks,
stages and the dashboard never see a mix of old and new tables of one stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from graphlib import CycleError as GraphCycle
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..db.ledger_rows import AttemptFields
from ..db.locks import RunLock
from ..errors import DefinitionError, SQLLayerError
from ..sql.ddl import check_name
from ..sql.stage_tables import publish_stage, shadow_name
from ..status import TaskState
from ..system import first_line
from .task import Task

if TYPE_CHECKING:
    from ..settings import Settings
    from .dag import Dag

__all__ = ["StageDecision", "StageRun", "plan_stages", "shadow_name", "stage_members"]

# A built task's ledger fields (timings, rows, output fingerprint), kept until its stage is decided.
Fields = AttemptFields


class StageDecision(NamedTuple):
    """The final state of a built task, known once its stage is published or abandoned."""

    name: str
    attempt: int
    state: TaskState
    reason: str | None
    fields: Fields


@dataclass
class _Built:
    attempt: int
    fields: Fields
    reason: str | None


def stage_members(tasks: Mapping[str, Task], stages: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Each staged task's stage, from ``@Task(stage=...)`` and settings.yml's ``stages:``.

    Raises ``DefinitionError`` listing every task named twice or not defined.
    """
    found: dict[str, str] = {name: task.stage for name, task in tasks.items() if task.stage}
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


def plan_stages(
    settings: Settings, engine: Engine, dag: Dag, names: list[str], lock: RunLock
) -> StageRun | None:
    """The run's ``StageRun``, checked before the lock is taken (None when no selected task
    has a stage); it publishes with ``lock`` re-checked just before the swap."""
    members = stage_members(dag.tasks, settings.stages)
    if not any(name in members for name in names):
        return None
    publish = partial(publish_stage, engine, check_lock=lock.verify)
    stages = StageRun(members, names, publish=publish)
    stages.check(engine, settings.task_config)
    stages.upstream({name: dag.upstream(name) for name in names})
    return stages


@dataclass
class StageRun:
    """The stages of one run: who belongs where, what is built, and when each one publishes.

    ``publish(targets)`` swaps the built shadows in. The methods that change a stage return the
    ``StageDecision`` of every built task the change decided (success after the swap, failed
    when the swap failed, else cancelled), for the run to record.
    """

    members: Mapping[str, str]
    selected: Iterable[str]
    publish: Callable[[list[str]], list[str]]
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

    def check(self, engine: Engine, config_of: Callable[[str], Mapping[str, object]]) -> None:
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

    def built(
        self, name: str, attempt: int, fields: Fields, reason: str | None
    ) -> list[StageDecision]:
        """A staged task succeeded: its table waits in its shadow until the stage is done."""
        stage = self.members[name]
        done = _Built(attempt, fields, reason)
        if stage in self._failed:
            return [_decision(name, done, TaskState.CANCELLED, self._failed[stage])]
        self._built[stage][name] = done
        return []

    def satisfied(self, name: str) -> list[StageDecision]:
        """A staged task is done (built or skipped); the last one publishes the stage.

        When publishing fails the stage is abandoned (see ``abandoned``): nothing of it was
        published.
        """
        stage = self.stage_of(name)
        if stage is None or stage in self._failed:
            return []
        todo = self._todo[stage]
        todo.discard(name)
        if todo:
            return []
        built = sorted(self._built.pop(stage).items())
        try:
            self.publish([task for task, _ in built])
        except SQLAlchemyError as exc:
            reason = f"stage '{stage}' could not be published: {first_line(exc)}"
            self._failed[stage] = reason
            return [_decision(task, done, TaskState.FAILED, reason) for task, done in built]
        return [_decision(task, done, TaskState.SUCCESS, done.reason) for task, done in built]

    def abandoned(self, name: str) -> bool:
        """Whether ``name``'s stage will not be published in this run."""
        return self.stage_of(name) in self._failed

    def failed(self, name: str, why: str) -> list[StageDecision]:
        """A task of the stage will not succeed in this run: abandon the stage."""
        stage = self.stage_of(name)
        if stage is None or stage in self._failed:
            return []
        reason = f"discarded: stage '{stage}' was not published ({why})"
        self._failed[stage] = reason
        built = sorted(self._built.pop(stage, {}).items())
        return [_decision(task, done, TaskState.CANCELLED, reason) for task, done in built]

    def abandon(self, why: str) -> list[StageDecision]:
        """The run is ending: every stage not published yet is abandoned."""
        decided = []
        for _, built in sorted(self._built.items()):
            if built:
                decided += self.failed(min(built), why)
        return decided


def _decision(name: str, done: _Built, state: TaskState, reason: str | None) -> StageDecision:
    return StageDecision(name, done.attempt, state, reason, done.fields)
