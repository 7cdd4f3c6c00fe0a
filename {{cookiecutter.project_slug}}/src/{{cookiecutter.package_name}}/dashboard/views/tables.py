"""Tables: every table and view in the database, its columns, a page of rows and a profile.

The pipeline's outputs come first; the framework's own tables (run ledger, ingest ledger,
Alembic's version) follow. The chosen table is in the URL (``?table=<name>``). A table whose
last build its checks refused is marked: that build is kept beside it as ``<table>__rejected``
and the published table stays as it was.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...status import CheckStatus
from .. import check_results, components
from ..data import fetch
from ..queries import ledger, relations

__all__ = ["render"]

PREVIEW_ROWS = 50
# A profile reads the whole table; above this many rows it waits for a click.
AUTO_PROFILE_ROWS = 200_000
VIEWS = ("Preview", "Columns", "Profile")
REJECTED_MARK = "⚠ last build rejected"


def render() -> None:
    """Draw the Tables page."""
    st.title("Tables")
    catalogue = fetch(relations.list_relations)
    if catalogue.empty:
        components.empty_state(
            "This database has no tables yet. Create the schema and run the pipeline:",
            "make migrate && make run",
        )
        return
    if not (~catalogue["system"]).any():
        components.empty_state(
            "No pipeline outputs yet: only the framework's own tables are here. Run the "
            "pipeline to materialize the models:",
            "make run",
        )
    rejected = fetch(relations.rejected_builds).set_index("table")
    _unpublished(rejected[~rejected["published"]])
    catalogue["last build"] = catalogue["name"].map(
        lambda table: REJECTED_MARK if table in rejected.index else ""
    )
    picker, rows_box, columns_box = st.columns([4, 1, 1], vertical_alignment="bottom")
    with picker:
        name = _pick(catalogue)
    entry = catalogue[catalogue["name"] == name].iloc[0]
    columns = fetch(relations.columns, name)
    # The catalogue estimates the largest tables; the one shown is counted exactly.
    rows = fetch(relations.row_count, name) if entry["estimated"] else int(entry["rows"])
    rows_box.metric("Rows", f"{rows:,}", border=True)
    columns_box.metric("Columns", len(columns), border=True)
    if name in rejected.index:
        _rejected_mark(name, rejected.loc[name])
    view = st.segmented_control("Show", VIEWS, default="Preview", key="table_view") or "Preview"
    if view == "Preview":
        _preview(name, rows)
    elif view == "Columns":
        components.table(columns)
    else:
        _profile(name, rows)
    with st.expander(f"All {len(catalogue)} tables and views"):
        components.table(catalogue.rename(columns={"system": "framework"}))


def _pick(catalogue: pd.DataFrame) -> str:
    names = list(catalogue["name"])
    wanted = st.query_params.get("table")
    labels = {
        name: f"{name}  ·  {kind}"
        + ("  ·  framework" if system else "")
        + (f"  ·  {mark}" if mark else "")
        for name, kind, system, mark in zip(
            catalogue["name"], catalogue["kind"], catalogue["system"], catalogue["last build"]
        )
    }
    chosen: str = st.selectbox(
        "Table",
        names,
        index=names.index(wanted) if wanted in names else 0,
        format_func=labels.__getitem__,  # every option has its label
        key="table_name",
    )
    if chosen != wanted:
        st.query_params["table"] = chosen
    return chosen


def _unpublished(refused: pd.DataFrame) -> None:
    """Builds refused on their first run: nothing is published under their name yet."""
    if refused.empty:
        return
    kept = ", ".join(f"{table} (in {row.kept_as})" for table, row in refused.iterrows())
    st.warning(
        f"Never published, the first build was rejected by its checks: {kept}.",
        icon=":material/gpp_bad:",
    )


def _rejected_mark(name: str, build: pd.Series) -> None:
    """The mark on a table whose last build its checks refused, why, and that build's rows."""
    st.warning(
        f"**Last build rejected by its checks**: {int(build['rows']):,} rows kept in "
        f"`{build['kept_as']}`; the published {build['kind']} is unchanged." + _refusal(name),
        icon=":material/gpp_bad:",
    )
    with st.expander(f"Rows of the rejected build ({build['kept_as']})"):
        _preview(str(build["kept_as"]), int(build["rows"]))


def _refusal(name: str) -> str:
    """Which checks refused the build and in which run, from the run ledger (when it has it)."""
    if fetch(ledger.ledger_missing):
        return ""
    failed = fetch(ledger.failed_checks, (name,))
    if failed.empty:
        return ""
    first = failed.iloc[0]
    reasons = "; ".join(
        f"`{check}`: "
        + (check_results.failing_rows(int(rows)) if status == CheckStatus.FAIL else "could not run")
        for check, status, rows in zip(failed["name"], failed["status"], failed["failing_rows"])
    )
    when = components.timestamp(first["finished_at"])
    text = f" Refused in run {first['run_id']} ({when}) by {reasons}."
    if isinstance(first["success_run_id"], str):
        text += (
            f" The published data is the build of run {first['success_run_id']} "
            f"({components.timestamp(first['success_at'])})."
        )
    return text


def _preview(name: str, rows: int) -> None:
    if not rows:
        st.caption(f"{name} is empty.")
        return
    limit, offset = components.pager(rows, key=f"preview_page_{name}", page_size=PREVIEW_ROWS)
    page = fetch(relations.preview, name, limit, offset)
    components.table(page)
    st.download_button(
        "Download this page as CSV",
        page.to_csv(index=False).encode("utf-8"),
        file_name=f"{name}-rows-{offset + 1}-{offset + len(page)}.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def _profile(name: str, rows: int) -> None:
    if rows > AUTO_PROFILE_ROWS and not st.button(
        f"Profile all {rows:,} rows", help="Nulls, distinct values, min and max of every column"
    ):
        st.caption("A profile reads the whole table, so it waits for you on large tables.")
        return
    profile = fetch(relations.profile, name)
    st.dataframe(
        profile,
        hide_index=True,
        width="stretch",
        column_config={
            "null %": st.column_config.ProgressColumn(
                "null %", min_value=0, max_value=100, format="%.1f%%"
            )
        },
    )
