"""``--select``/``--exclude`` in dbt's spelling: ``name``, ``stg_*``, ``tag:x``, ``a+``, ``+a``.

``a+`` adds every descendant of ``a``, ``+a`` every ancestor; a pattern with ``*``, ``?`` or
``[`` matches task names like a shell glob; ``state:modified`` and its kin compare with a
``--state`` manifest (``state.py``) and may match nothing.
"""

from __future__ import annotations

import difflib
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from ..errors import DefinitionError

if TYPE_CHECKING:
    from .dag import Dag

__all__ = ["resolve"]


def resolve(dag: Dag, select: list[str], exclude: list[str]) -> list[str]:
    """Selected task names in run order; a selector matching nothing is an error."""
    problems: list[str] = []
    chosen = set(dag.names) if not select else _union(dag, select, "--select", problems)
    dropped = _union(dag, exclude, "--exclude", problems)
    if problems:
        raise DefinitionError(problems, where="the selection")
    return [name for name in dag.names if name in chosen and name not in dropped]


def _union(dag: Dag, selectors: list[str], option: str, problems: list[str]) -> set[str]:
    names: set[str] = set()
    for selector in selectors:
        for word in selector.replace(",", " ").split():
            matched = _match(dag, word)
            if not matched and not word.strip("+").startswith("state:"):
                problems.append(_no_match(dag, word, option))
            names |= matched
    return names


def _match(dag: Dag, word: str) -> set[str]:
    ancestors, descendants = word.startswith("+"), word.endswith("+")
    core = word.strip("+")
    if core.startswith("tag:"):
        tag = core[4:]
        base = {name for name, task in dag.tasks.items() if tag in task.tags}
    elif core.startswith("state:"):
        from .state import state_match  # reads manifests: only for state selectors

        base = state_match(dag, core[6:])
    elif any(ch in core for ch in "*?["):
        base = {name for name in dag.names if fnmatchcase(name, core)}
    else:
        base = {core} if core in dag else set()
    result = set(base)
    for name in base:
        if ancestors:
            result |= dag.ancestors(name)
        if descendants:
            result |= dag.descendants(name)
    return result


def _no_match(dag: Dag, word: str, option: str) -> str:
    core = word.strip("+")
    if core.startswith("tag:"):
        tags = sorted({tag for task in dag.tasks.values() for tag in task.tags})
        known = ", ".join(tags) if tags else "none"
        return f"{option} {word!r} matches no task; known tags: {known}"
    close = difflib.get_close_matches(core, dag.names, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{option} {word!r} matches no task{hint}"
