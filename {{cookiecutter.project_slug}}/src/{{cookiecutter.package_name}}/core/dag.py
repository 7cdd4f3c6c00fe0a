"""The task graph: built from tasks, validated all at once, selected from and drawn.

Every definition problem (bad options, unknown or self dependencies, cycles) is collected and
raised together, before anything runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from graphlib import TopologicalSorter
from pathlib import Path

from ..errors import CycleError, DefinitionError
from .task import Task

__all__ = ["Dag"]


class Dag:
    """A validated DAG of tasks; ``names`` is a deterministic topological order."""

    def __init__(self, tasks: Mapping[str, Task], upstream: Mapping[str, tuple[str, ...]]):
        self.tasks = dict(tasks)
        self._upstream = dict(upstream)
        self._downstream: dict[str, list[str]] = {name: [] for name in self.tasks}
        for name, parents in self._upstream.items():
            for parent in parents:
                self._downstream[parent].append(name)
        self.names = _topological(self._upstream)

    @classmethod
    def from_tasks(
        cls, tasks: Mapping[str, Task] | Iterable[Task], root: Path | None = None
    ) -> Dag:
        """Validate ``tasks`` and build the graph; raise one error listing every problem."""
        by_name = dict(tasks) if isinstance(tasks, Mapping) else {t.name: t for t in tasks}
        problems: list[str] = []
        upstream: dict[str, tuple[str, ...]] = {}
        for name, task in by_name.items():
            found = [f": {problem}" for problem in task.problems]
            parents = []
            for dep in task.depends_on:
                problem = _dependency_problem(task, dep, by_name)
                if problem:
                    found.append(f" {problem}")
                else:
                    parents.append(dep if isinstance(dep, str) else dep.name)
            upstream[name] = tuple(dict.fromkeys(parents))
            if found:  # the location resolves paths on disk: only for a task with a problem
                where = f"task '{name}' ({_short(task.location, root)})"
                problems += [where + problem for problem in found]
        cycles = _cycles(upstream)
        if len(cycles) == 1 and not problems:
            raise CycleError(cycles[0])
        problems += ["cycle: " + " -> ".join(cycle) for cycle in cycles]
        if problems:
            raise DefinitionError(problems)
        return cls(by_name, upstream)

    def upstream(self, name: str) -> tuple[str, ...]:
        """The tasks ``name`` depends on directly."""
        return self._upstream[name]

    def downstream(self, name: str) -> tuple[str, ...]:
        """The tasks that depend directly on ``name``."""
        return tuple(sorted(self._downstream[name]))

    def ancestors(self, name: str) -> set[str]:
        """Every task ``name`` depends on, directly or not."""
        return _reach(name, self.upstream)

    def descendants(self, name: str) -> set[str]:
        """Every task that depends on ``name``, directly or not."""
        return _reach(name, self.downstream)

    def select(
        self, select: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> list[str]:
        """Names matching ``select`` (all when empty) minus ``exclude``, in run order."""
        from .selectors import resolve

        return resolve(self, list(select or ()), list(exclude or ()))

    def to_dot(self, statuses: Mapping[str, str] | None = None) -> str:
        """Graphviz DOT source, nodes coloured by ``statuses`` (task name -> state)."""
        from .drawing import to_dot

        return to_dot(self, statuses or {})

    def to_mermaid(self, statuses: Mapping[str, str] | None = None) -> str:
        """A Mermaid flowchart, nodes coloured by ``statuses``."""
        from .drawing import to_mermaid

        return to_mermaid(self, statuses or {})

    def __len__(self) -> int:
        return len(self.tasks)

    def __contains__(self, name: object) -> bool:
        return name in self.tasks


def _dependency_problem(task: Task, dep: object, by_name: Mapping[str, Task]) -> str | None:
    name = dep if isinstance(dep, str) else getattr(dep, "name", None)
    if not isinstance(dep, (Task, str)):
        label = getattr(dep, "__name__", repr(dep))
        hint = " (decorate it with @Task())" if callable(dep) else ""
        return f"depends on {label!r}, which is not a task{hint}"
    if name == task.name:
        return "depends on itself"
    if name is None or name not in by_name:
        close = difflib.get_close_matches(str(name), list(by_name), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"depends on '{name}', which is not a task{hint}"
    if isinstance(dep, Task) and by_name[name] is not dep:
        return f"depends on a task '{name}' that is not the one defined under models/"
    return None


def _cycles(upstream: Mapping[str, tuple[str, ...]]) -> list[list[str]]:
    """One cycle per tangle, each printed in run order and starting at its smallest name."""
    downstream: dict[str, list[str]] = {name: [] for name in upstream}
    for name, parents in upstream.items():
        for parent in parents:
            downstream[parent].append(name)
    found: dict[frozenset[str], list[str]] = {}
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in sorted(upstream):
        if start in state:
            continue
        path, stack = [start], [iter(sorted(downstream[start]))]
        state[start] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                cycle = path[path.index(child) :]
                found.setdefault(frozenset(cycle), _rotate(cycle))
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append(iter(sorted(downstream[child])))
    return sorted(found.values())


def _rotate(cycle: list[str]) -> list[str]:
    first = cycle.index(min(cycle))
    turned = cycle[first:] + cycle[:first]
    return turned + [turned[0]]


def _topological(upstream: Mapping[str, tuple[str, ...]]) -> list[str]:
    """A topological order that does not depend on dict or hash order (ties by name)."""
    sorter = TopologicalSorter(upstream)
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def _reach(name: str, step) -> set[str]:  # type: ignore[no-untyped-def]
    seen: set[str] = set()
    todo = list(step(name))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(step(current))
    return seen


def _short(location: str, root: Path | None) -> str:
    if root is None:
        return location
    path, _, line = location.rpartition(":")
    try:
        return f"{Path(path).resolve().relative_to(Path(root).resolve()).as_posix()}:{line}"
    except ValueError:
        return location
