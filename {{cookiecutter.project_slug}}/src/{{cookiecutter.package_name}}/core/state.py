"""State selectors in dbt's spelling, against a manifest of another version (``--state FILE``).

``state:new`` the tasks the manifest does not have; ``state:modified`` the new tasks and those
whose own code, config or checks changed (``state:modified.code``, ``.config``, ``.checks``
narrow it to one part); a task whose only change is upstream is not modified: ``state:modified+``
adds it as a descendant. ``state:removed`` selects nothing to run, since removed tasks are no
longer in the DAG (``diff`` lists them); ``+``/``+`` around it add nothing either. A state
selector that matches no task selects nothing, which is not an error: a pull request may change
no task.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StateError
from .manifest import Manifest, build_manifest, parse_manifest

if TYPE_CHECKING:
    from ..settings import Settings
    from .dag import Dag

__all__ = ["Comparison", "compare", "comparing_to", "read_state", "state_match", "use_state"]

PARTS = ("code", "config", "checks")
METHODS = ("new", "removed", "modified", *(f"modified.{part}" for part in PARTS))


@dataclass(frozen=True)
class Comparison:
    """How the current manifest differs from the base one, task by task."""

    new: tuple[str, ...]
    removed: tuple[str, ...]
    changed: Mapping[str, tuple[str, ...]]  # task -> its own parts that changed (code, ...)
    upstream_only: tuple[str, ...] = ()  # same task, only an upstream fingerprint changed

    def names(self, method: str) -> set[str]:
        """The current tasks ``state:<method>`` selects."""
        if method == "new":
            return set(self.new)
        if method == "removed":
            return set()
        if method == "modified":
            return set(self.new) | set(self.changed)
        part = method.removeprefix("modified.")
        return {name for name, parts in self.changed.items() if part in parts}


def compare(base: Manifest, current: Manifest) -> Comparison:
    """Tasks added, removed and changed (with which of their own parts) from ``base``."""
    before, after = base["tasks"], current["tasks"]
    changed: dict[str, tuple[str, ...]] = {}
    upstream_only: list[str] = []
    for name in sorted(set(before) & set(after)):
        old, new = before[name].get("parts", {}), after[name]["parts"]
        parts = tuple(part for part in PARTS if old.get(part) != new[part])
        if parts:
            changed[name] = parts
        elif old.get("upstream") != new["upstream"]:
            upstream_only.append(name)
    return Comparison(
        new=tuple(sorted(set(after) - set(before))),
        removed=tuple(sorted(set(before) - set(after))),
        changed=changed,
        upstream_only=tuple(upstream_only),
    )


def read_state(path: Path) -> Manifest:
    """The manifest at ``path``; a missing or malformed file is a ``StateError``."""
    try:
        return parse_manifest(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        reason = exc.strerror or str(exc)
    except ValueError as exc:
        reason = str(exc)
    raise StateError(
        f"--state {path} cannot be read ({reason}). Give the manifest of the version to compare "
        f"with, written by `manifest --out FILE` on that version (`make pr-diff BASE=main "
        f"STATE=FILE` builds one from a git branch)."
    )


@dataclass
class _Baseline:
    path: Path
    manifest: Manifest
    settings: Settings | None
    seen: dict[int, Comparison] = field(default_factory=dict)


_active: ContextVar[_Baseline | None] = ContextVar("state_baseline", default=None)


def use_state(path: Path | None) -> Path | None:
    """Compare ``state:`` selectors with the manifest at ``path`` (a typer option callback)."""
    _active.set(None if path is None else _Baseline(path, read_state(path), None))
    return path


@contextmanager
def comparing_to(path: Path, settings: Settings) -> Iterator[None]:
    """``state:`` selectors inside the block compare ``settings``' project with ``path``."""
    token = _active.set(_Baseline(path, read_state(path), settings))
    try:
        yield
    finally:
        _active.reset(token)


def state_match(dag: Dag, method: str) -> set[str]:
    """The tasks of ``dag`` that ``state:<method>`` selects."""
    if method not in METHODS:
        known = ", ".join(f"state:{m}" for m in METHODS)
        raise StateError(f"'state:{method}' is not a state selector; use one of {known}.")
    baseline = _active.get()
    if baseline is None:
        raise StateError(
            f"'state:{method}' compares the project with another version, so it needs "
            f"--state FILE: the manifest of that version (`manifest --out FILE` run on it, or "
            f"`make pr-diff BASE=main STATE=FILE`). Add --state FILE to the command."
        )
    comparison = baseline.seen.get(id(dag))
    if comparison is None:
        settings = baseline.settings or _settings()
        current = build_manifest(dag, settings.task_config, settings.root)
        comparison = baseline.seen[id(dag)] = compare(baseline.manifest, current)
    return comparison.names(method)


def _settings() -> Settings:
    from ..settings import load_settings

    return load_settings()
