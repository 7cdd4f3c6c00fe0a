"""The task graph drawn on a page: the whole DAG or a part of it, each node filled by its status.

The DAG page and the Run detail page both draw it, with the colours of the graph drawing the
palette shares.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import streamlit as st

from ..core.dag import Dag

__all__ = ["draw_graph", "subdag"]


def subdag(dag: Dag, keep: Collection[str]) -> Dag:
    """The graph restricted to ``keep`` (edges to tasks left out are dropped)."""
    if len(keep) == len(dag.names):
        return dag
    kept = set(keep)
    upstream = {name: tuple(p for p in dag.upstream(name) if p in kept) for name in keep}
    return Dag({name: dag.tasks[name] for name in keep}, upstream)


def draw_graph(
    dag: Dag, statuses: Mapping[str, str], *, keep: Collection[str] | None = None
) -> None:
    """The DAG (or the part of it in ``keep``) with each node filled by its status colour."""
    shown = subdag(dag, keep if keep is not None else dag.names)
    st.graphviz_chart(shown.to_dot(dict(statuses)), width="stretch")
