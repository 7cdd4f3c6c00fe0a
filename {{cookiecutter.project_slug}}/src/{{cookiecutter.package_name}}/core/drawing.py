"""The DAG as Graphviz DOT or a Mermaid flowchart, nodes coloured by task state."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..status import TaskState

if TYPE_CHECKING:
    from .dag import Dag

__all__ = ["COLOURS", "to_dot", "to_mermaid"]

# Fill colours per state; tasks without a state stay white.
COLOURS: dict[str, str] = {
    TaskState.SUCCESS: "#b7e4c7",
    TaskState.FAILED: "#f4a3a3",
    TaskState.UPSTREAM_FAILED: "#f9d5a7",
    TaskState.SKIPPED: "#d9d9d9",
    TaskState.CANCELLED: "#e0c3f0",
    TaskState.CRASHED: "#c9184a",
    TaskState.RUNNING: "#a8d8f0",
}
_NO_STATE = "#ffffff"


def to_dot(dag: Dag, statuses: Mapping[str, str]) -> str:
    """DOT source, left to right, each node labelled with its name and state."""
    lines = [
        "digraph pipeline {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for name in dag.names:
        state = statuses.get(name)
        label = f"{name}\n({state})" if state else name
        fill = COLOURS.get(state or "", _NO_STATE)
        lines.append(
            f"  {json.dumps(name)} [label={json.dumps(label)}, fillcolor={json.dumps(fill)}];"
        )
    for name in dag.names:
        for parent in dag.upstream(name):
            lines.append(f"  {json.dumps(parent)} -> {json.dumps(name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(dag: Dag, statuses: Mapping[str, str]) -> str:
    """A ``flowchart LR`` with one class per state."""
    ids = {name: f"t{i}" for i, name in enumerate(dag.names)}
    lines = ["flowchart LR"]
    for name in dag.names:
        state = statuses.get(name)
        label = f"{name} ({state})" if state else name
        lines.append(f'    {ids[name]}["{_mermaid_text(label)}"]')
    for name in dag.names:
        for parent in dag.upstream(name):
            lines.append(f"    {ids[parent]} --> {ids[name]}")
    used = sorted({statuses[n] for n in dag.names if statuses.get(n) in COLOURS})
    for state in used:
        lines.append(f"    classDef {state} fill:{COLOURS[state]},stroke:#333")
        members = ",".join(ids[n] for n in dag.names if statuses.get(n) == state)
        lines.append(f"    class {members} {state}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")
