"""Code-aware fingerprints: what a task is, so an unchanged task can be skipped.

A task's fingerprint hashes its normalised source (the AST without comments, whitespace,
docstring or decorators), what the task promises (its checks, schedule and retry settings, given
to ``@Task``), its ``tasks.<name>`` config block (materialization, checks there) and its
upstream fingerprints. Only SHA-256 over canonical text is used, so the value is the same under
any ``PYTHONHASHSEED`` and on any machine.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import json
import linecache
import textwrap
from collections.abc import Callable, Mapping
from types import CodeType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dag import Dag
    from .task import Task

__all__ = ["combine", "fingerprints", "normalised_source", "output_fingerprint", "promises"]

_source_cache: dict[tuple[str, int, str], str] = {}


def fingerprints(dag: Dag, config_of: Callable[[str], Mapping[str, object]]) -> dict[str, str]:
    """Every task's fingerprint, upstream first."""
    result: dict[str, str] = {}
    for name in dag.names:
        task = dag.tasks[name]
        parents = [result[parent] for parent in sorted(dag.upstream(name))]
        source = normalised_source(task.func) + "\0promises\0" + promises(task)
        result[name] = _hash(name, source, config_of(name), parents)
    return result


def promises(task: Task) -> str:
    """Canonical text of what ``@Task(...)`` promises about the task's output and its runs:
    each check (its name holds its arguments) with its severity and table, the schedule and
    the retry settings. Decorators are not in the normalised source, so this is how editing
    them makes the task due."""
    checks = [f"{type(c).__qualname__}:{c.name}:{c.severity}:{c.table or ''}" for c in task.checks]
    schedule = task.runs_on
    when = repr(schedule) if dataclasses.is_dataclass(schedule) else schedule.describe()
    text = {"checks": checks, "runs_on": when, "retry": [task.retry, task.retry_delay]}
    return json.dumps(text, sort_keys=True, default=str, separators=(",", ":"))


def output_fingerprint(query: str | None, config: Mapping[str, object]) -> str | None:
    """The fingerprint of a task's returned query together with how its config stores it:
    the same query materialized differently (a view instead of a table) is a new output."""
    if query is None:
        return None
    stored = {key: config.get(key) for key in ("materialize", "unique_key", "indexes")}
    text = json.dumps(stored, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{query}\0{text}".encode()).hexdigest()


def combine(fingerprint: str, output: str | None) -> str:
    """The fingerprint of a task's output (e.g. its compiled SQL) joined to its own."""
    if output is None:
        return fingerprint
    return hashlib.sha256(f"{fingerprint}\0{output}".encode()).hexdigest()


def normalised_source(func: Callable[..., object]) -> str:
    """The function's AST dump: comments, formatting, docstring and decorators do not count."""
    code = getattr(func, "__code__", None)
    if code is None:
        return repr(func)
    key = (code.co_filename, code.co_firstlineno, code.co_name)
    cached = _source_cache.get(key)
    if cached is None:
        cached = _source_cache[key] = _normalise(func, code)
    return cached


def clear_source_cache() -> None:
    """Forget normalised sources (after models were re-imported)."""
    _source_cache.clear()


def _normalise(func: Callable[..., object], code: CodeType) -> str:
    linecache.checkcache(code.co_filename)
    try:
        source = textwrap.dedent(inspect.getsource(func))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        # No source to read (made by exec, or a lambda inside an expression): fall back on
        # the bytecode and constants, which still change when the code does.
        return f"{code.co_code.hex()}|{code.co_consts!r}|{code.co_names!r}"
    node = tree.body[0] if tree.body else tree
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        node.decorator_list = []
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            if isinstance(body[0].value.value, str) and len(body) > 1:
                node.body = body[1:]
    return ast.dump(node, include_attributes=False)


def _hash(name: str, source: str, config: Mapping[str, object], parents: list[str]) -> str:
    digest = hashlib.sha256(name.encode())
    digest.update(b"\0" + source.encode())
    if config:
        text = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
        digest.update(b"\0config\0" + text.encode())
    for parent in parents:
        digest.update(b"\0" + parent.encode())
    return digest.hexdigest()
