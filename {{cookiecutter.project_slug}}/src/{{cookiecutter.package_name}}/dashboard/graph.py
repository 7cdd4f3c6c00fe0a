"""The task graph drawn on a page: the whole DAG or a part of it, each node filled by its status.

The DAG page and the Run detail page both draw it, with the colours of the graph drawing the
palette shares. The DAG page may add the tables beside the tasks: an arrow from a task to each
table it wrote, a dashed one from each table read to its reader.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping

import streamlit as st

from ..core.dag import Dag
from ..db.models import TableAccess

__all__ = ["draw_graph", "subdag", "with_tables"]

TABLE_FILL = "#e8f1fb"


def subdag(dag: Dag, keep: Collection[str]) -> Dag:
    """The graph restricted to ``keep`` (edges to tasks left out are dropped)."""
    if len(keep) == len(dag.names):
        return dag
    kept = set(keep)
    upstream = {name: tuple(p for p in dag.upstream(name) if p in kept) for name in keep}
    return Dag({name: dag.tasks[name] for name in keep}, upstream)


def draw_graph(
    dag: Dag,
    statuses: Mapping[str, str],
    *,
    keep: Collection[str] | None = None,
    tables: Iterable[tuple[str, str, str]] = (),
) -> None:
    """The DAG (or the part of it in ``keep``) with each node filled by its status colour and,
    given ``tables`` as (task, table, access) rows, the tables its tasks read and wrote."""
    shown = subdag(dag, keep if keep is not None else dag.names)
    dot = with_tables(shown.to_dot(dict(statuses)), shown, tables)
    st.graphviz_chart(dot, width="stretch")


def with_tables(dot: str, dag: Dag, tables: Iterable[tuple[str, str, str]]) -> str:
    """DOT source with a cylinder per table the shown tasks read or wrote, and its arrows."""
    lines: list[str] = []
    nodes: dict[str, str] = {}
    for task, table, access in tables:
        if task not in dag:
            continue
        node = nodes.setdefault(table, json.dumps(f"table:{table}"))
        if access == TableAccess.WRITE:
            lines.append(f"  {json.dumps(task)} -> {node};")
        else:
            lines.append(f"  {node} -> {json.dumps(task)} [style=dashed];")
    if not nodes:
        return dot
    declared = [
        f"  {node} [label={json.dumps(table)}, shape=cylinder, style=filled, "
        f"fillcolor={json.dumps(TABLE_FILL)}];"
        for table, node in sorted(nodes.items())
    ]
    body = dot.rstrip().removesuffix("}")
    return body + "\n".join([*declared, *lines]) + "\n}\n"
