"""Find the project's tasks: import every module under ``models/`` and collect what was defined.

Modules are imported fresh on every call (earlier imports of the same package are dropped), so
an edited model is seen by the next discovery in the same process.
"""

from __future__ import annotations

import difflib
import importlib
import sys
import threading
import traceback
from pathlib import Path

from ..errors import DefinitionError, SettingsError
from ..settings import Settings
from .task import Task, collect_defined, defined_count

__all__ = ["discover", "discover_path"]

_import_lock = threading.Lock()


def discover(settings: Settings) -> dict[str, Task]:
    """Every task defined under ``settings.project.models_dir``, by name; a ``tasks.<name>``
    block of settings.yml that names no task is an error (a typo would drop its config)."""
    tasks = discover_path(settings.root, settings.project.models_dir)
    problems = [
        _unknown_block(name, settings, tasks) for name in settings.tasks if name not in tasks
    ]
    if problems:
        raise SettingsError(str(settings.root / "settings.yml"), problems)
    return tasks


def _unknown_block(name: str, settings: Settings, tasks: dict[str, Task]) -> str:
    line = settings.key_lines.get(f"tasks.{name}")
    where = f"tasks.{name} (line {line})" if line else f"tasks.{name}"
    close = difflib.get_close_matches(name, list(tasks), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return (
        f"{where}: no task is named '{name}' under {settings.project.models_dir}/; "
        f"{hint}rename the block or remove it"
    )


def discover_path(root: Path, models_dir: str = "models") -> dict[str, Task]:
    """Import ``root/models_dir`` as a package and return its tasks; problems are all raised."""
    root = Path(root).resolve()
    folder = (root / models_dir).resolve()
    if not folder.is_dir():
        raise DefinitionError(
            [f"the models folder {folder} does not exist; create it or set project.models_dir"],
            where=str(root / "settings.yml"),
        )
    package = ".".join(folder.relative_to(root).parts)
    with _import_lock:
        _forget(package)
        if str(root) in sys.path:  # first on the path, so this project's models win
            sys.path.remove(str(root))
        sys.path.insert(0, str(root))
        start = defined_count()
        imported = [_import(name, root, folder) for name in _module_names(folder, package)]
        tasks = collect_defined(start)
    problems = [p for p in imported if p]
    problems += _duplicates(tasks, root)
    if problems:
        raise DefinitionError(problems, where=f"{models_dir}/")
    return {task.name: task for task in tasks}


def _module_names(folder: Path, package: str) -> list[str]:
    names = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if any(part.startswith((".", "_")) and part != "__init__" for part in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join((package, *parts)))
    return names


def _import(name: str, root: Path, folder: Path) -> str | None:
    """Import one module; an error becomes a one-line problem naming the file and line (the
    innermost frame in the models folder, or for a syntax error the offending line itself)."""
    try:
        importlib.import_module(name)
    except SyntaxError as exc:  # its traceback ends in importlib, not where the typo is
        where = f"{_relative(exc.filename or name, root)}:{exc.lineno}"
        code = (exc.text or "").strip()
        shown = f": {code}" if code else ""
        return f"{where}: importing {name} failed: {type(exc).__name__}: {exc.msg}{shown}"
    except Exception as exc:  # user code: any error is a definition problem
        frames = traceback.extract_tb(exc.__traceback__)
        own = [f for f in frames if Path(f.filename).resolve().is_relative_to(folder)]
        trail = own or frames
        where = f"{_relative(trail[-1].filename, root)}:{trail[-1].lineno}" if trail else name
        return f"{where}: importing {name} failed: {type(exc).__name__}: {exc}"
    return None


def _forget(package: str) -> None:
    """Drop earlier imports of the models package so edits are picked up."""
    for module in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[module]
    importlib.invalidate_caches()


def _duplicates(tasks: list[Task], root: Path) -> list[str]:
    seen: dict[str, list[Task]] = {}
    for task in tasks:
        seen.setdefault(task.name, []).append(task)
    return [
        f"'{name}' is defined {'twice' if len(found) == 2 else f'{len(found)} times'}: "
        + " and ".join(_relative(t.location, root) for t in found)
        + "; rename one of them (or give it @Task(name=...))"
        for name, found in seen.items()
        if len(found) > 1
    ]


def _relative(location: str, root: Path) -> str:
    path, sep, line = location.rpartition(":")
    if not sep or not line.isdigit():
        path, line = location, ""
    try:
        shown = Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        shown = path
    return f"{shown}:{line}" if line else shown
