"""The manifest: a stable JSON description of the project's DAG, for comparing two versions.

Each task's name, ``file:line`` relative to the project root, its fingerprint (the one the
engine caches on) and the parts that went into it, its dependencies, materialization, checks,
schedule and tags. Keys are sorted and nothing depends on time or on where the project lives,
so two manifests of the same code are byte-identical on any machine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import fingerprints, normalised_source, promises

if TYPE_CHECKING:
    from .dag import Dag

__all__ = ["FORMAT", "Manifest", "build_manifest", "dump_manifest", "parse_manifest"]

FORMAT = 1
# A manifest as JSON data: {"format": 1, "tasks": {name: {...}}}.
Manifest = dict[str, Any]


def build_manifest(
    dag: Dag, config_of: Callable[[str], Mapping[str, object]], root: Path
) -> Manifest:
    """The manifest of ``dag``, each task's config block read through ``config_of``."""
    prints = fingerprints(dag, config_of)
    tasks: dict[str, Any] = {}
    for name in dag.names:
        task = dag.tasks[name]
        config = dict(config_of(name))
        configured_checks = config.pop("checks", None)
        decorator_checks = [f"{type(c).__qualname__}:{c.name}:{c.severity}" for c in task.checks]
        parts = {
            "code": _digest(normalised_source(task.func)),
            "config": _digest({"config": config, "promises": _without_checks(promises(task))}),
            "checks": _digest({"task": decorator_checks, "config": configured_checks}),
            "upstream": _digest([prints[parent] for parent in sorted(dag.upstream(name))]),
        }
        tasks[name] = {
            "name": name,
            "location": _relative(task.location, root),
            "fingerprint": prints[name],
            "parts": parts,
            "depends_on": sorted(dag.upstream(name)),
            "materialization": config.get("materialize") or "table",
            "checks": [*decorator_checks, *_check_words(configured_checks)],
            "schedule": task.runs_on.describe(),
            "tags": sorted(task.tags),
        }
    return {"format": FORMAT, "tasks": tasks}


def dump_manifest(manifest: Manifest) -> str:
    """Canonical text: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"


def parse_manifest(text: str) -> Manifest:
    """A manifest read back; ``ValueError`` when the text is not one."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), dict):
        raise ValueError("it is not a pipeline manifest (no 'tasks' object)")
    if data.get("format") != FORMAT:
        raise ValueError(f"manifest format {data.get('format')!r} is not {FORMAT}")
    return data


def _digest(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _without_checks(promised: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(promised)
    data.pop("checks", None)
    return data


def _check_words(configured: object) -> list[str]:
    """Configured checks as short words (``not_null:id``), however settings.yml spells them."""
    if not isinstance(configured, list):
        return [] if configured is None else [json.dumps(configured, sort_keys=True, default=str)]
    return [
        item if isinstance(item, str) else json.dumps(item, sort_keys=True, default=str)
        for item in configured
    ]


def _relative(location: str, root: Path) -> str:
    """``path:line`` relative to the project root, with forward slashes."""
    path, _, line = location.rpartition(":")
    try:
        shown = Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        shown = Path(path).name
    return f"{shown}:{line}"
