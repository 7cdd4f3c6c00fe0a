"""How the dashboard shows what it reads: whole numbers whole, empty cells blank, an error by
the line that says what failed, time axes whose labels differ, and a SQLite file deleted while
the dashboard runs shown as missing at once."""

from __future__ import annotations

import json
import os
import re
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from sqlalchemy import Engine, insert
from streamlit.testing.v1 import AppTest

from {{ cookiecutter.package_name }}.db.engine import session_scope
from {{ cookiecutter.package_name }}.db.models import PipelineRun, TaskRun
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.ingest.tables import OBJECTS
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import ObjectStatus, RunState, StageStatus, TaskState

PACKAGE = "{{ cookiecutter.package_name }}"
# What a table cell must never show: a NULL spelled out, or a count with decimals.
NULL_WORDS = {"None", "nan", "NaN", "<NA>", "NaT"}
WHOLE_WITH_DECIMALS = re.compile(r"^-?\d+\.0+$")


def _app(package: str, start: str) -> None:
    import importlib

    importlib.import_module(f"{package}.dashboard.navigation").main(start)


def _open(page: str, **query: str) -> AppTest:
    app = AppTest.from_function(_app, args=(PACKAGE, page), default_timeout=60)
    app.query_params.update(query)
    return app.run()


@pytest.fixture
def fresh(settings: Settings) -> Iterator[Settings]:
    """A migrated, empty database; no cached answer or engine of another test."""
    upgrade(settings)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield settings
    st.cache_data.clear()
    st.cache_resource.clear()


def shown_cells(app: AppTest) -> list[pd.DataFrame]:
    """Each table of the page as the browser draws it: a NULL cell as a grey ``None`` (the grid
    does so whatever the display text says), any other cell as the display text Streamlit sends
    (a table sent without display text shows its raw values)."""
    tables = []
    for element in app.dataframe:
        proto = element.proto
        arrow = proto.arrow_data if proto.HasField("arrow_data") else proto.lazy_data.initial_chunk
        data = pa.ipc.open_stream(arrow.data).read_all().to_pandas()
        text = data
        if arrow.HasField("styler"):
            text = pa.ipc.open_stream(arrow.styler.display_values).read_all().to_pandas()
            text.columns = data.columns
        cells = text.astype(object).map(str)
        tables.append(cells.where(data.notna().to_numpy(), "None"))
    return tables


def bad_cells(app: AppTest) -> list[str]:
    return [
        cell
        for frame in shown_cells(app)
        for cell in frame.to_numpy().ravel()
        if cell in NULL_WORDS or WHOLE_WITH_DECIMALS.match(cell)
    ]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _object(object_id: str, status: str, rows: tuple[int | None, ...]) -> dict[str, object]:
    """An ingest-ledger row of the ``orders`` model."""
    now = _now()
    read, loaded, rejected = rows
    return dict(
        id=object_id,
        model="orders",
        model_version=1,
        source_uri=f"data/inbox/{object_id}.csv",
        content_hash=object_id * 2,
        bytes=1234,
        status=status,
        extract_status=StageStatus.DONE,
        transform_status=StageStatus.DONE,
        load_status=StageStatus.DONE if loaded is not None else StageStatus.RUNNING,
        rows_read=read,
        rows_loaded=loaded,
        rows_rejected=rejected,
        target_table="orders",
        created_at=now,
        updated_at=now,
    )


def test_ingest_counts_are_whole_numbers_and_empty_cells_blank(fresh, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(OBJECTS),
            [
                _object("a" * 16, ObjectStatus.LOADED, (11, 11, 0)),
                _object("b" * 16, ObjectStatus.LOADING, (7, None, None)),
            ],
        )
    app = _open("ingest")
    assert not app.exception, [exc.value for exc in app.exception]
    (objects,) = [frame for frame in shown_cells(app) if "rows_read" in frame.columns]
    assert sorted(objects["rows_read"]) == ["11", "7"]
    assert sorted(objects["rows_loaded"]) == ["", "11"]
    assert bad_cells(app) == []


@pytest.mark.parametrize("page", ["overview", "runs", "run-detail", "ingest", "tables"])
def test_no_table_shows_none_or_a_count_with_decimals(open_page, dashboard, page) -> None:
    query = {"run": dashboard.failed_run} if page == "run-detail" else {}
    app = open_page(page, **query)
    assert shown_cells(app), f"no table on {page}"
    assert bad_cells(app) == []


def _stored_traceback(exc: BaseException) -> str:
    try:
        raise exc
    except BaseException as raised:  # noqa: BLE001  (only to format a real traceback)
        return "".join(traceback.format_exception(raised))


def _failed_run(engine: Engine, error: str) -> str:
    now = _now()
    with session_scope(engine) as session:
        session.add(
            PipelineRun(
                id="failed-run",
                started_at=now - timedelta(seconds=30),
                finished_at=now,
                heartbeat_at=now,
                status=RunState.FAILED,
                host="worker-1",
                pid=4242,
                tasks_total=1,
            )
        )
        session.add(
            TaskRun(
                run_id="failed-run",
                task="load_orders",
                attempt=1,
                status=TaskState.FAILED,
                started_at=now - timedelta(seconds=20),
                finished_at=now,
                error=error,
            )
        )
    return "failed-run"


MULTI_LINE = "orders.csv has 2 rows without an id\n  line 4: ,Arsenal,12\n  line 9: ,Spurs,3"


def test_an_error_heading_names_the_exception_not_its_last_line(fresh, engine: Engine) -> None:
    run_id = _failed_run(engine, _stored_traceback(ValueError(MULTI_LINE)))
    app = _open("run-detail", run=run_id)
    (expander,) = app.expander
    assert expander.label.endswith("ValueError: orders.csv has 2 rows without an id")
    overview = _open("overview")
    errors = [frame["error"] for frame in shown_cells(overview) if "error" in frame.columns]
    assert list(errors[0]) == ["ValueError: orders.csv has 2 rows without an id"]


def test_a_chained_error_heading_names_the_exception_raised_last(fresh, engine: Engine) -> None:
    try:
        try:
            raise KeyError("elo")
        except KeyError as cause:
            raise RuntimeError("scoring failed\nsee the predictions table") from cause
    except RuntimeError as exc:
        stored = "".join(traceback.format_exception(exc))
    run_id = _failed_run(engine, stored)
    (expander,) = _open("run-detail", run=run_id).expander
    assert expander.label.endswith("RuntimeError: scoring failed")


def _finished_runs(engine: Engine, starts: list[datetime]) -> None:
    with session_scope(engine) as session:
        for i, start in enumerate(starts):
            session.add(
                PipelineRun(
                    id=f"run-{i}",
                    started_at=start,
                    finished_at=start + timedelta(seconds=3 + i),
                    heartbeat_at=start,
                    status=RunState.SUCCESS,
                    host="worker-1",
                    pid=100 + i,
                    tasks_total=1,
                )
            )


def _duration_axis(app: AppTest) -> dict:
    for chart in app.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        for layer in spec.get("layer", [spec]):
            x = layer.get("encoding", {}).get("x", {})
            if x.get("field") == "started_at" and "x2" not in layer.get("encoding", {}):
                return x.get("axis", {})
    raise AssertionError("no run-duration chart on the overview")


@pytest.mark.parametrize(
    "spread, label",
    [
        (timedelta(seconds=20), r"\d\d:\d\d:\d\d"),
        (timedelta(hours=2), r"\d\d:\d\d"),
        (timedelta(days=6), r"[A-Z][a-z]{2} \d\d"),
    ],
)
def test_the_run_duration_axis_has_distinct_labels(fresh, engine, spread, label) -> None:
    first = _now() - spread - timedelta(minutes=1)
    _finished_runs(engine, [first + spread * i / 4 for i in range(5)])
    axis = _duration_axis(_open("overview"))
    ticks = [
        datetime(v["year"], v["month"], v["date"], v["hours"], v["minutes"], v["seconds"])
        for v in axis.get("values", [])
    ]
    labels = [tick.strftime(axis["format"]) for tick in ticks]
    assert len(labels) >= 3, f"too few tick labels for runs {spread} apart: {labels}"
    assert all(value.get("utc") for value in axis["values"]), "the ledger's times are UTC"
    assert len(set(labels)) == len(labels), labels
    assert all(re.fullmatch(label, text) for text in labels), labels
    assert all(first - timedelta(days=1) < tick <= first + spread for tick in ticks)


def test_a_sqlite_file_deleted_while_the_dashboard_runs_is_shown_missing(
    fresh: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("a database file is SQLite's")
    _finished_runs(engine, [_now() - timedelta(minutes=5)])
    engine.dispose()
    before = _open("overview")
    assert [metric.value for metric in before.metric][:1] == ["1"]
    os.remove(engine.url.database)
    after = _open("overview")
    assert not after.exception, [exc.value for exc in after.exception]
    errors = [error.value for error in after.error]
    assert errors and "there is no database file at" in errors[0], errors
    assert not after.metric, "a deleted database must not be shown from a cached answer"
