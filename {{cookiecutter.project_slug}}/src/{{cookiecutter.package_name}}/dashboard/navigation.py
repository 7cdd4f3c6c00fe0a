"""The dashboard's sidebar, the page shell every page renders inside, and the app itself."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ..errors import PipelineError
from . import pages
from .connection import describe_error
from .data import guarded, use_settings
from .pages import PageSpec
from .views import dag, ingest, overview, run_detail, runs, tables

__all__ = ["RENDERS", "main", "page"]

# The function that draws each page.
RENDERS: dict[PageSpec, Callable[[], None]] = {
    pages.OVERVIEW: overview.render,
    pages.RUNS: runs.render,
    pages.RUN_DETAIL: run_detail.render,
    pages.DAG: dag.render,
    pages.TABLES: tables.render,
    pages.INGEST: ingest.render,
}

# Less empty space above the title: a 1280x800 screen shows more of each page.
_STYLE = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
</style>"""


def page(spec: PageSpec, *, default: bool = False) -> st.Page:
    """The ``st.Page`` of one of ``pages.PAGES``; each page runs inside the error shell."""
    render = RENDERS[spec]

    def shell() -> None:
        with guarded():
            render()

    shell.__name__ = render.__module__.rpartition(".")[2]
    return st.Page(shell, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=default)


def main(start: str = pages.OVERVIEW.url_path) -> None:
    """Draw the app: page config, sidebar, then the page the URL asks for."""
    st.set_page_config(
        page_title="Pipeline dashboard", page_icon=":material/account_tree:", layout="wide"
    )
    st.markdown(_STYLE, unsafe_allow_html=True)
    built = {spec: page(spec, default=spec.url_path == start) for spec in pages.PAGES}
    pages.register(built)
    navigation = st.navigation(list(built.values()))
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
