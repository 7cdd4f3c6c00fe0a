"""``diff``: what a change does to the DAG, between a base manifest and the current one.

The affected part of the DAG is every new or modified task and every task downstream of one;
removed tasks are shown beside it (from the base manifest). Markdown holds a Mermaid
``graph LR`` of that part, each node coloured by its change, and a table of the tasks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .manifest import Manifest
from .state import Comparison, compare

__all__ = ["MARKER", "PipelineDiff", "diff_manifests", "to_json", "to_markdown", "to_mermaid"]

# The hidden line a pull-request comment is found by, so it is updated rather than repeated.
MARKER = "<!-- pipeline-diff -->"
_STYLES = {
    "new": "fill:#c6f6d5,stroke:#2f855a,color:#1a202c",
    "modified": "fill:#fefcbf,stroke:#b7791f,color:#1a202c",
    "downstream": "fill:#bee3f8,stroke:#2b6cb0,color:#1a202c",
    "removed": "fill:#fed7d7,stroke:#c53030,stroke-dasharray:4 4,color:#1a202c",
}


@dataclass(frozen=True)
class PipelineDiff:
    """The tasks a change touches: ``kinds`` maps each to new/modified/downstream/removed."""

    comparison: Comparison
    kinds: dict[str, str]
    edges: list[tuple[str, str]]
    tasks: dict[str, Any]  # the current manifest's tasks, removed ones from the base

    @property
    def changed(self) -> list[str]:
        """New and modified tasks (what ``state:modified`` selects)."""
        return sorted(n for n, kind in self.kinds.items() if kind in ("new", "modified"))

    @property
    def downstream(self) -> list[str]:
        """Tasks not changed themselves that run after a changed one."""
        return sorted(n for n, kind in self.kinds.items() if kind == "downstream")


def diff_manifests(base: Manifest, current: Manifest) -> PipelineDiff:
    """Compare two manifests: changed tasks, their descendants and removed tasks."""
    comparison = compare(base, current)
    after, before = current["tasks"], base["tasks"]
    kinds = {name: "new" for name in comparison.new}
    kinds.update({name: "modified" for name in comparison.changed})
    children: dict[str, list[str]] = {name: [] for name in after}
    for name, task in after.items():
        for parent in task["depends_on"]:
            children.setdefault(parent, []).append(name)
    todo = list(kinds)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in kinds:
                kinds[child] = "downstream"
                todo.append(child)
    kinds.update({name: "removed" for name in comparison.removed})
    edges = {(p, n) for n in kinds if n in after for p in after[n]["depends_on"] if p in kinds}
    edges |= {(p, n) for n in comparison.removed for p in before[n]["depends_on"] if p in kinds}
    edges |= {
        (n, c)
        for n in comparison.removed
        for c in kinds
        if n in before.get(c, {}).get("depends_on", [])
    }
    tasks = {**{n: before[n] for n in comparison.removed}, **after}
    return PipelineDiff(comparison, kinds, sorted(edges), tasks)


def to_mermaid(diff: PipelineDiff) -> str:
    """A Mermaid ``graph LR`` of the affected tasks, coloured by kind (``classDef``)."""
    lines = ["graph LR"]
    lines += [f"  classDef {kind} {style}" for kind, style in _STYLES.items()]
    for name in sorted(diff.kinds):
        lines.append(f'  {_node_id(name)}["{_label(name)}"]:::{diff.kinds[name]}')
    for parent, child in diff.edges:
        lines.append(f"  {_node_id(parent)} --> {_node_id(child)}")
    return "\n".join(lines) + "\n"


def to_markdown(diff: PipelineDiff) -> str:
    """The pull-request comment body: a summary line, the Mermaid graph and a table."""
    lines = ["### Pipeline impact", ""]
    if not diff.kinds:
        lines.append("No task is added, removed or changed: nothing to run.")
        return "\n".join(lines) + "\n"
    counts = {k: sum(1 for v in diff.kinds.values() if v == k) for k in _STYLES}
    lines.append(", ".join(f"**{n}** {kind}" for kind, n in counts.items()) + ".")
    lines += ["", "```mermaid", to_mermaid(diff).rstrip("\n"), "```", ""]
    lines += ["| task | change | what changed | where |", "| --- | --- | --- | --- |"]
    order = {"new": 0, "modified": 1, "removed": 2, "downstream": 3}
    for name in sorted(diff.kinds, key=lambda n: (order[diff.kinds[n]], n)):
        kind = diff.kinds[name]
        what = ", ".join(diff.comparison.changed.get(name, ()))
        what = what or {"downstream": "upstream", "new": "added"}.get(kind, "deleted")
        where = diff.tasks[name].get("location", "")
        lines.append(f"| `{name}` | {kind} | {what} | `{where}` |")
    return "\n".join(lines) + "\n"


def to_json(diff: PipelineDiff) -> str:
    """The diff as stable JSON (sorted keys) for other tools."""
    data = {
        "new": list(diff.comparison.new),
        "modified": {name: list(parts) for name, parts in diff.comparison.changed.items()},
        "removed": list(diff.comparison.removed),
        "downstream": diff.downstream,
        "edges": [list(edge) for edge in diff.edges],
    }
    return json.dumps(data, sort_keys=True, indent=2) + "\n"


def _node_id(name: str) -> str:
    """A Mermaid-safe id (``end`` and punctuation would break the graph)."""
    return "t_" + re.sub(r"\W", "_", name)


def _label(name: str) -> str:
    return name.replace('"', "#quot;")
