"""The dashboard's pages, its sidebar and the page shell every page renders inside."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from ..errors import PipelineError
from .connection import describe_error
from .data import guarded, use_settings
from .views import dag, ingest, overview, run_detail, runs, tables

__all__ = ["PAGES", "PageSpec", "main", "open_run", "page"]


@dataclass(frozen=True)
class PageSpec:
    """A page: its title, Material icon, URL path and the function that draws it."""

    title: str
    icon: str
    url_path: str
    render: Callable[[], None]


PAGES: tuple[PageSpec, ...] = (
    PageSpec("Overview", ":material/dashboard:", "overview", overview.render),
    PageSpec("Runs", ":material/history:", "runs", runs.render),
    PageSpec("Run detail", ":material/troubleshoot:", "run-detail", run_detail.render),
    PageSpec("DAG", ":material/account_tree:", "dag", dag.render),
    PageSpec("Tables", ":material/table_chart:", "tables", tables.render),
    PageSpec("Ingest", ":material/move_to_inbox:", "ingest", ingest.render),
)


# Less empty space above the title: a 1280x800 screen shows more of each page.
_STYLE = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
</style>"""


def page(url_path: str, *, default: bool = False) -> st.Page:
    """The ``st.Page`` of one of ``PAGES``; each page runs inside the error shell."""
    spec = next(spec for spec in PAGES if spec.url_path == url_path)

    def shell() -> None:
        with guarded():
            spec.render()

    shell.__name__ = spec.render.__module__.rpartition(".")[2]
    return st.Page(shell, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=default)


def open_run(run_id: str) -> None:
    """Go to the Run detail page of ``run_id``."""
    st.switch_page(page("run-detail"), query_params={"run": run_id})


def main(start: str = "overview") -> None:
    """Draw the app: page config, sidebar, then the page the URL asks for."""
    st.set_page_config(
        page_title="Pipeline dashboard", page_icon=":material/account_tree:", layout="wide"
    )
    st.markdown(_STYLE, unsafe_allow_html=True)
    navigation = st.navigation(
        [page(spec.url_path, default=spec.url_path == start) for spec in PAGES]
    )
    try:
        source = use_settings()
    except PipelineError as exc:
        st.error(describe_error(exc), icon=":material/error:")
        return
    with st.sidebar:
        st.caption(f"**{source.settings.project.name}**")
        st.caption(f"Database: {source.label} (read-only)", help=source.shown)
        if st.button("Refresh data", icon=":material/refresh:", width="stretch"):
            st.cache_data.clear()
    navigation.run()
