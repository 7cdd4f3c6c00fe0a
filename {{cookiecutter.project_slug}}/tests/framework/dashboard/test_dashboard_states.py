"""What the dashboard says when there is nothing to show yet, or when the database is not there:
a clear message and the command that fixes it, never a traceback."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from {{ cookiecutter.package_name }}.db.engine import session_scope
from {{ cookiecutter.package_name }}.db.models import PipelineRun, TaskRun
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import Settings

PACKAGE = "{{ cookiecutter.package_name }}"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
LEDGER_PAGES = ["overview", "runs", "run-detail"]
ALL_PAGES = ["overview", "runs", "run-detail", "dag", "tables", "ingest"]


def _app(package: str, start: str) -> None:
    import importlib

    importlib.import_module(f"{package}.dashboard.navigation").main(start)


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Each test sees its own database, never a cached answer or engine of another one."""
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _open(page: str) -> AppTest:
    return AppTest.from_function(_app, args=(PACKAGE, page), default_timeout=60).run()


@pytest.fixture
def open_page(settings: Settings) -> Iterator[Callable[[str], AppTest]]:
    """The dashboard in AppTest on the ``settings`` fixture's (empty) database; its pooled
    connections closed before that database is dropped (a server refuses to drop a database
    the read-only user is still connected to)."""
    yield _open
    st.cache_resource.clear()


def shown(app: AppTest) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "info", "warning", "error", "code")
    return "\n".join(str(element.value) for kind in kinds for element in getattr(app, kind))


def assert_no_traceback(app: AppTest) -> None:
    assert not app.exception, [exc.value for exc in app.exception]


@pytest.fixture
def migrated(settings: Settings, engine: Engine) -> Settings:
    upgrade(settings)
    return settings


@pytest.mark.parametrize("page", LEDGER_PAGES)
def test_a_database_without_the_ledger_asks_for_make_migrate(open_page, engine, page) -> None:
    with engine.connect():  # creates the empty database file on SQLite
        pass
    app = open_page(page)
    assert_no_traceback(app)
    assert "no run ledger yet" in shown(app)
    assert "make migrate && make run" in shown(app)


@pytest.mark.parametrize("page", LEDGER_PAGES)
def test_no_runs_yet_asks_for_make_run(open_page, migrated, page) -> None:
    app = open_page(page)
    assert_no_traceback(app)
    assert "No runs yet" in shown(app)
    assert "make run" in shown(app)


def test_ingest_without_any_object_says_how_to_ingest(open_page, migrated) -> None:
    app = open_page("ingest")
    assert_no_traceback(app)
    assert "Nothing has been ingested yet" in shown(app)


def test_ingest_on_a_database_migrated_before_the_ingest_ledger(open_page, settings) -> None:
    upgrade(settings, "0001")  # the run ledger only
    app = open_page("ingest")
    assert_no_traceback(app)
    assert "no ingest ledger yet (missing: etl_data_objects, etl_rejects)" in shown(app)


def test_tables_with_only_framework_tables_asks_for_make_run(open_page, migrated) -> None:
    app = open_page("tables")
    assert_no_traceback(app)
    assert "No pipeline outputs yet" in shown(app)


@pytest.mark.parametrize("page", [page for page in ALL_PAGES if page != "dag"])
def test_a_missing_sqlite_file_is_one_clear_message(project: Path, monkeypatch, page) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{project / 'data' / 'nowhere.db'}")
    monkeypatch.setenv("PIPELINE_SETTINGS", str(project / "settings.yml"))
    app = _open(page)
    assert_no_traceback(app)
    errors = [error.value for error in app.error]
    assert errors and "there is no database file at" in errors[0]
    assert "make migrate" in errors[0]
    assert not (project / "data" / "nowhere.db").exists(), "the dashboard must never create it"


def test_the_dag_is_drawn_without_statuses_when_the_database_is_missing(
    project: Path, monkeypatch
) -> None:
    shutil.copytree(PROJECT_ROOT / "models", project / "models")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{project / 'data' / 'nowhere.db'}")
    monkeypatch.setenv("PIPELINE_SETTINGS", str(project / "settings.yml"))
    app = _open("dag")
    assert_no_traceback(app)
    assert "Showing the graph without statuses" in app.warning[0].value
    assert "task_one" in app.get("graphviz_chart")[0].proto.spec


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("page", ["overview", "tables", "ingest"])
def test_a_database_server_that_is_down_is_one_clear_message(
    project: Path, monkeypatch, page
) -> None:
    url = f"mysql+pymysql://dashboard:secret@127.0.0.1:{_closed_port()}/pipeline"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PIPELINE_SETTINGS", str(project / "settings.yml"))
    app = _open(page)
    assert_no_traceback(app)
    errors = [error.value for error in app.error]
    assert errors and "database server cannot be reached" in errors[0]
    assert "secret" not in errors[0], "the password must never be shown"


def test_broken_settings_are_one_clear_message(project: Path, monkeypatch) -> None:
    (project / "settings.yml").write_text("project:\n  name: x\ndashboard:\n  port: 0\n")
    monkeypatch.setenv("PIPELINE_SETTINGS", str(project / "settings.yml"))
    app = _open("overview")
    assert_no_traceback(app)
    assert "dashboard.port (line 4)" in app.error[0].value


def test_a_dropped_ledger_table_is_named_with_the_fix(open_page, migrated, engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE check_results"))
    app = open_page("run-detail")
    assert_no_traceback(app)
    assert "no run ledger yet (missing: check_results)" in shown(app)


def _running_run(engine: Engine, heartbeat_age: timedelta) -> None:
    """A run still in progress: one task done, one running, of three."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with session_scope(engine) as session:
        session.add(
            PipelineRun(
                id="live-run",
                started_at=now - timedelta(minutes=5),
                heartbeat_at=now - heartbeat_age,
                status="running",
                host="worker-1",
                pid=4242,
                tasks_total=3,
            )
        )
        for task, status in (("extract", "success"), ("transform", "running")):
            session.add(
                TaskRun(
                    run_id="live-run",
                    task=task,
                    attempt=1,
                    status=status,
                    started_at=now - timedelta(minutes=4),
                )
            )


def test_a_run_in_progress_shows_live_progress(open_page, migrated, engine) -> None:
    _running_run(engine, heartbeat_age=timedelta(seconds=5))
    app = open_page("overview")
    assert_no_traceback(app)
    assert "Run live-run is running" in shown(app)
    (progress,) = app.get("progress")
    assert progress.proto.text == "1 of 3 tasks finished"
    assert not app.warning


def test_a_run_whose_heartbeat_stopped_is_flagged(open_page, migrated, engine) -> None:
    _running_run(engine, heartbeat_age=timedelta(minutes=30))
    app = open_page("overview")
    assert "the process may have died" in app.warning[0].value
