"""The dashboard's pages by name (title, icon, URL path), and how one page opens another.

Only the navigation imports the views; a view that links to another page goes through this
module, so no page imports the navigation back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

__all__ = [
    "DAG",
    "INGEST",
    "OVERVIEW",
    "PAGES",
    "RUNS",
    "RUN_DETAIL",
    "TABLES",
    "PageSpec",
    "register",
    "open_run",
]

_BUILT_KEY = "_dashboard_pages"


@dataclass(frozen=True)
class PageSpec:
    """A page: its title, Material icon and URL path."""

    title: str
    icon: str
    url_path: str


OVERVIEW = PageSpec("Overview", ":material/dashboard:", "overview")
RUNS = PageSpec("Runs", ":material/history:", "runs")
RUN_DETAIL = PageSpec("Run detail", ":material/troubleshoot:", "run-detail")
DAG = PageSpec("DAG", ":material/account_tree:", "dag")
TABLES = PageSpec("Tables", ":material/table_chart:", "tables")
INGEST = PageSpec("Ingest", ":material/move_to_inbox:", "ingest")
# In the sidebar's order.
PAGES: tuple[PageSpec, ...] = (OVERVIEW, RUNS, RUN_DETAIL, DAG, TABLES, INGEST)


def register(built: Mapping[PageSpec, st.Page]) -> None:
    """Remember the ``st.Page`` the navigation built for each page in this session, so that a
    page can switch to another (Streamlit switches to a page given by its ``st.Page``)."""
    st.session_state[_BUILT_KEY] = dict(built)


def open_run(run_id: str) -> None:
    """Go to the Run detail page of ``run_id``."""
    st.switch_page(st.session_state[_BUILT_KEY][RUN_DETAIL], query_params={"run": run_id})
