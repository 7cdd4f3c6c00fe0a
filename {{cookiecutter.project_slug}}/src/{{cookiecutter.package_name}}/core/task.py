"""The ``@Task`` decorator: a plain function plus what the engine needs to run it.

    @Task(depends_on=[load], retry=3, ttl_minutes=60, runs_on=Monthly(), tags=["marts"])
    def report(session, config): ...

The decorated object stays callable like the function, so unit tests call ``report(...)``
directly. Every task created is remembered so that discovery can find tasks made in loops and
report names defined twice.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .schedule import Daily, Schedule

if TYPE_CHECKING:
    from ..sql.checks import Check

__all__ = ["INJECTABLE", "Task", "collect_defined", "import_task"]

# Parameter names the engine fills in when it calls a task.
INJECTABLE = frozenset({"config", "session", "engine", "run"})

_defined: list[Task] = []
_defined_lock = threading.Lock()
_latest: dict[tuple[str, str], Task] = {}  # (module, name) -> the last such task defined


class Task:
    """A unit of work in the DAG: ``@Task``, ``@Task()`` or ``@Task(depends_on=[...], ...)``."""

    func: Callable[..., object]

    def __init__(
        self,
        depends_on: Sequence[Task | str] | Callable[..., object] | None = None,
        retry: int = 0,
        retry_delay: float = 1.0,
        ttl_minutes: float | None = None,
        runs_on: Schedule | None = None,
        tags: Iterable[str] = (),
        name: str | None = None,
        timeout: float | None = None,
        checks: Sequence[Check] = (),
        stage: str | None = None,
    ):
        if isinstance(depends_on, Task):
            raise TypeError("depends_on takes a list of tasks or names, e.g. depends_on=[load]")
        func = None
        if callable(depends_on) and not isinstance(depends_on, (list, tuple)):
            func, depends_on = depends_on, None  # written `@Task` without parentheses
        self.depends_on: tuple[Task | str, ...] = tuple(depends_on or ())
        self.retry = retry
        self.retry_delay = retry_delay
        self.ttl_minutes = ttl_minutes
        self.runs_on: Schedule = runs_on if runs_on is not None else Daily()
        self.tags: tuple[str, ...] = tuple(tags)
        self.timeout = timeout
        self.checks: tuple[Check, ...] = tuple(checks or ())
        self.stage = stage
        self._name = name
        self.problems = self._option_problems()
        if func is not None:
            self._bind(func)

    def __call__(self, *args: object, **kwargs: object) -> Any:
        """First call decorates the function; later calls run it (the task stays callable)."""
        if "func" not in self.__dict__:
            if len(args) != 1 or kwargs or not callable(args[0]):
                raise TypeError("@Task(...) decorates a function: put it on a `def`")
            return self._bind(args[0])
        return self.func(*args, **kwargs)

    def _bind(self, func: Callable[..., object]) -> Task:
        self.func = func
        self.name = self._name or func.__name__
        self.__name__ = self.name
        self.__qualname__ = getattr(func, "__qualname__", self.name)
        self.__module__ = getattr(func, "__module__", None) or "__main__"
        self.__doc__ = func.__doc__
        self.__wrapped__ = func
        self.location = _location(func)
        self.injected = frozenset(_parameters(func) & INJECTABLE)
        self.provided, provided_problems = _provided(func)
        self.problems = [*self.problems, *_parameter_problems(func), *provided_problems]
        with _defined_lock:
            _defined.append(self)
            _latest[self.__module__, self.name] = self
        return self

    def _option_problems(self) -> list[str]:
        """Bad options, reported by the DAG together with every other problem."""
        problems = []
        if not isinstance(self.retry, int) or self.retry < 0:
            problems.append(f"retry must be a whole number >= 0, got {self.retry!r}")
        if not isinstance(self.retry_delay, (int, float)) or self.retry_delay < 0:
            problems.append(f"retry_delay must be seconds >= 0, got {self.retry_delay!r}")
        if self.ttl_minutes is not None and not _positive(self.ttl_minutes):
            problems.append(f"ttl_minutes must be a number > 0, got {self.ttl_minutes!r}")
        if self.timeout is not None and not _positive(self.timeout):
            problems.append(f"timeout must be seconds > 0, got {self.timeout!r}")
        problems += _schedule_problems(self.runs_on)
        if any(not isinstance(tag, str) for tag in self.tags):
            problems.append(f"tags must be strings, got {list(self.tags)!r}")
        return problems

    @property
    def upstream_names(self) -> tuple[str, ...]:
        """Names of the tasks this one depends on (strings are taken as names)."""
        return tuple(dep if isinstance(dep, str) else dep.name for dep in self.depends_on)

    def __repr__(self) -> str:
        name = self.__dict__.get("name", "<undecorated>")
        return f"<Task {name}>"

    def __reduce__(self) -> tuple[Callable[[str, str], Task], tuple[str, str]]:
        # A task pickles as a reference, so that it can cross to another process that
        # imports the same models.
        return (import_task, (self.__module__, self.name))


def _schedule_problems(runs_on: object) -> list[str]:
    """``runs_on`` as the user's (unchecked) code passed it: a schedule, or a problem."""
    if isinstance(runs_on, Schedule):
        return []
    return [
        f"runs_on must be a schedule (Daily(), Weekly(n), Monthly(), Cron('...')), "
        f"got {runs_on!r}"
    ]


def import_task(module: str, name: str) -> Task:
    """Find a task by its module and name (how a pickled task is loaded elsewhere)."""
    importlib.import_module(module)
    with _defined_lock:  # looked up on every unpickling: a dict, not a scan of every definition
        found = _latest.get((module, name))
    if found is None:
        raise LookupError(f"no task {name!r} in module {module!r}")
    return found


def collect_defined(since: int = 0) -> list[Task]:
    """Tasks created since position ``since`` of the registry (discovery's bookkeeping)."""
    with _defined_lock:
        return list(_defined[since:])


def defined_count() -> int:
    """How many tasks have been created so far in this process."""
    with _defined_lock:
        return len(_defined)


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _parameters(func: Callable[..., object]) -> set[str]:
    try:
        return set(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return set()


def _provided(func: Callable[..., object]) -> tuple[dict[str, str], list[str]]:
    """Parameters defaulting to pydwt's ``Provide[Container.config...]`` and the settings path
    each names (see ``containers.py``), with problems for markers the engine cannot fill."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return {}, []
    markers = {
        p.name: p.default
        for p in parameters
        if type(p.default).__module__.startswith("dependency_injector.")
    }
    if not markers:
        return {}, []
    from .containers import config_paths  # dependency-injector, only for tasks that use it

    return config_paths(markers)


def _parameter_problems(func: Callable[..., object]) -> list[str]:
    """Parameters the engine cannot fill in: it passes only the INJECTABLE names, by keyword."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return []
    problems = []
    for param in parameters:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name in INJECTABLE and param.kind is param.POSITIONAL_ONLY:
            problems.append(f"parameter '{param.name}' is positional-only; remove the '/'")
        elif param.name not in INJECTABLE and param.default is param.empty:
            close = difflib.get_close_matches(param.name, sorted(INJECTABLE), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(
                f"parameter '{param.name}' cannot be injected: the engine passes only "
                f"{', '.join(sorted(INJECTABLE))} (or give it a default){hint}"
            )
    return problems


def _location(func: Callable[..., object]) -> str:
    """``path:line`` where the function is defined, for error messages."""
    code = getattr(inspect.unwrap(func), "__code__", None)  # under @inject, the user's def
    if code is None:
        return "<unknown>"
    return f"{code.co_filename}:{code.co_firstlineno}"
