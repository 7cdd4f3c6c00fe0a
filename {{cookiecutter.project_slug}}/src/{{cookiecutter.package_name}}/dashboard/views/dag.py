"""DAG: the graph the code under ``models/`` defines now, with each task's last status and
the tables its last run read and wrote.

Pick a task to see only what it depends on, what depends on it, or both.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from ...core.dag import Dag
from ...db.models import TableAccess
from ...errors import PipelineError
from .. import components
from ..connection import describe_error
from ..data import code_dag, current, fetch
from ..graph import draw_graph, subdag
from ..queries import ledger, lineage

__all__ = ["render"]

DIRECTIONS = ("upstream", "downstream", "both")
TABLES_HELP = (
    "Cylinders are tables: an arrow from the task that wrote one, a dashed arrow to each task "
    "that read it, as recorded by each task's last run."
)


def render() -> None:
    """Draw the DAG page."""
    st.title("DAG")
    dag, problem = code_dag()
    if dag is None:
        st.error(f"The DAG cannot be built from the code:\n\n{problem}", icon=":material/error:")
        st.caption("Fix the tasks under models/ and reload; `make run` prints the same problems.")
        return
    if not dag.names:
        components.empty_state(
            "No tasks yet: decorate a function in models/ with `@Task()` and reload.", None
        )
        return
    last = _last_statuses(dag.names)
    focus, direction = _focus_controls(dag.names)
    keep = _kept(dag, focus, direction)
    statuses = dict(zip(last["task"], last["status"]))
    tables = _latest_tables()
    shown = st.toggle("Show tables", value=True, key="dag_tables", help=TABLES_HELP)
    rows = tables.itertuples(index=False, name=None) if shown else ()
    draw_graph(dag, statuses, keep=keep, tables=rows)
    components.legend()
    st.subheader("Tasks")
    frame = _with_lineage(_task_rows(dag, last, keep), tables)
    components.status_table(frame, status_columns=("last status",))
    with st.expander("Mermaid source (paste into docs or a pull request)"):
        st.code(subdag(dag, keep).to_mermaid(statuses), "text")


def _last_statuses(names: Collection[str]) -> pd.DataFrame:
    """Each task's last status; the graph is still worth showing without them."""
    nothing = pd.DataFrame(columns=["task", "status", "finished_at"])
    try:
        if fetch(ledger.ledger_missing):
            return nothing
        return fetch(ledger.last_task_statuses, tuple(names))
    except (PipelineError, SQLAlchemyError) as exc:
        st.warning(
            f"Showing the graph without statuses: {describe_error(exc, current().shown)}",
            icon=":material/warning:",
        )
        return nothing


def _latest_tables() -> pd.DataFrame:
    """The tables each task's last run read and wrote; none when the ledger cannot say."""
    try:
        if fetch(ledger.ledger_missing):
            return pd.DataFrame(columns=lineage.COLUMNS)
        return fetch(lineage.latest_tables)
    except (PipelineError, SQLAlchemyError):
        return pd.DataFrame(columns=lineage.COLUMNS)  # the statuses' warning says why


def _with_lineage(rows: pd.DataFrame, tables: pd.DataFrame) -> pd.DataFrame:
    """The task rows with a column of the tables each read and one of those it wrote."""
    for access, column in ((TableAccess.READ, "reads"), (TableAccess.WRITE, "writes")):
        chosen = tables[tables["access"] == access]
        names = chosen.groupby("task")["table_name"].agg(", ".join).to_dict()
        rows[column] = [names.get(task, "") for task in rows["task"]] if not rows.empty else []
    return rows


def _focus_controls(names: Collection[str]) -> tuple[str | None, str]:
    left, right = st.columns([3, 2])
    focus = left.selectbox(
        "Focus on a task", list(names), index=None, placeholder="the whole graph", key="dag_focus"
    )
    direction = right.segmented_control(
        "Show", DIRECTIONS, default="both", key="dag_direction", disabled=focus is None
    )
    return focus, direction or "both"


def _kept(dag: Dag, focus: str | None, direction: str) -> list[str]:
    if focus is None:
        return list(dag.names)
    chosen = {focus}
    if direction in ("upstream", "both"):
        chosen |= set(dag.ancestors(focus))
    if direction in ("downstream", "both"):
        chosen |= set(dag.descendants(focus))
    return [name for name in dag.names if name in chosen]


def _task_rows(dag: Dag, last: pd.DataFrame, keep: Collection[str]) -> pd.DataFrame:
    by_task = last.set_index("task") if not last.empty else pd.DataFrame()
    rows = []
    for name in keep:
        task = dag.tasks[name]
        seen = name in by_task.index
        rows.append(
            {
                "task": name,
                "last status": by_task.at[name, "status"] if seen else "",
                "last finished": (
                    components.timestamp(by_task.at[name, "finished_at"]) if seen else "never ran"
                ),
                "schedule": task.runs_on.describe() if task.runs_on else "every run",
                "ttl": f"{task.ttl_minutes} min" if task.ttl_minutes else "",
                "retry": str(task.retry) if task.retry else "",
                "tags": ", ".join(task.tags),
                "upstream": ", ".join(dag.upstream(name)),
                "downstream": ", ".join(dag.downstream(name)),
            }
        )
    return pd.DataFrame(rows)
