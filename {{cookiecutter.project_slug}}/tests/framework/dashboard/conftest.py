"""Fixtures of the dashboard tests: a project whose database holds real runs of the pipeline.

``seeded`` copies the project (models and seeds included), adds a task that always fails (so
there are retries, an upstream failure and a traceback to show), a data check that warns, and
an ingest model fed a CSV with one bad row. It migrates the database and runs the pipeline
twice for real: first without the failing branch (it succeeds), then in full (it fails, and
the tasks the first run built are skipped as cached). On MySQL and PostgreSQL the dashboard then reads through the read-only ``dashboard``
user.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import streamlit as st
import yaml
from mysql_support import (
    BACKENDS,
    SERVER_BACKENDS,
    fresh_database,
    readonly_credentials,
    readonly_variable,
    url_string,
)
from streamlit.testing.v1 import AppTest

from {{ cookiecutter.package_name }}.core.runner import run_pipeline
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.status import RunState

PROJECT_ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "{{ cookiecutter.package_name }}"
APP_TIMEOUT_S = 60
# Streamlit's script runner installs each app script as ``__main__`` and leaves it there.
REAL_MAIN = sys.modules["__main__"]

FAILING_MODELS = f"""
from {PACKAGE}.core.task import Task
from {PACKAGE}.sql.checks import accepted_values, row_count


@Task(depends_on=["task_two"], retry=1, retry_delay=0.01, tags=["scores"])
def score_teams(session):
    raise ValueError("the predictions table has no 'elo' column to score teams with")


@Task(depends_on=[score_teams])
def publish_scores(session):
    return session.table("predictions")


@Task(
    depends_on=["task_one"],
    checks=[row_count(min=1), accepted_values("preds", ["hw", "aw"], severity="warn")],
)
def checked_predictions(session):
    return session.table("predictions")
"""

INGEST_MODEL = f"""
from {PACKAGE}.ingest import CsvSource, IngestModel, fields


class TeamRatings(IngestModel):
    __table__ = "team_ratings"
    __source__ = CsvSource("data/inbox/ratings.csv")

    team = fields.String(length=40, required=True)
    rating = fields.Integer(required=True)
"""

RATINGS_CSV = "team,rating\nArsenal,1850\nChelsea,not-a-number\nLiverpool,1820\n"


@dataclass(frozen=True)
class Seeded:
    """A project and database holding two real runs: a successful one, then a failed one."""

    root: Path
    database_url: str
    dashboard_url: str | None
    failed_run: str
    ok_run: str


def copy_project(root: Path) -> Path:
    """This project's settings, migrations, models and seeds in a fresh folder."""
    root.mkdir(parents=True)
    for name in ("settings.yml", "alembic.ini"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    for folder in ("migrations", "models", "seeds"):
        if (PROJECT_ROOT / folder).is_dir():
            shutil.copytree(
                PROJECT_ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__")
            )
    return root


def set_dashboard_url(root: Path, url: str | None) -> None:
    """Point settings.yml's ``dashboard.url`` at ``url``."""
    path = root / "settings.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("dashboard", {})["url"] = url
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.fixture(autouse=True)
def read_only_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without dashboard.url, the dashboard reads MySQL or PostgreSQL as this user (the one
    docker/<server>/init.sql creates)."""
    for backend in SERVER_BACKENDS:
        for name, value in zip(("USER", "PASSWORD"), readonly_credentials(backend)):
            monkeypatch.setenv(readonly_variable(backend, name), value)


@pytest.fixture(scope="module", params=BACKENDS)
def backend_url(request: pytest.FixtureRequest) -> Iterator[tuple[str, str | None]]:
    """A fresh database URL, and the read-only URL the dashboard should use (servers only)."""
    if request.param == "sqlite":
        yield "", None
        return
    with fresh_database(request.param) as url:
        user, password = readonly_credentials(request.param)
        try:
            yield url_string(url), url_string(url.set(username=user, password=password))
        finally:
            st.cache_resource.clear()  # the dashboard's pooled connections to the dropped database


@pytest.fixture(scope="module")
def seeded(backend_url: tuple[str, str | None], tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """Migrate a fresh database and run the example pipeline on it twice, for real."""
    root = copy_project(tmp_path_factory.mktemp("dashboard") / "project")
    (root / "models" / "scores.py").write_text(textwrap.dedent(FAILING_MODELS), encoding="utf-8")
    (root / "models" / "ratings.py").write_text(textwrap.dedent(INGEST_MODEL), encoding="utf-8")
    (root / "data" / "inbox").mkdir(parents=True)
    (root / "data" / "inbox" / "ratings.csv").write_text(RATINGS_CSV, encoding="utf-8")
    database_url, reader_url = backend_url
    database_url = database_url or f"sqlite:///{root / 'data' / 'warehouse.db'}"
    set_dashboard_url(root, reader_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        patch.setenv("PIPELINE_SETTINGS", str(root / "settings.yml"))
        settings = load_settings(root / "settings.yml")
        upgrade(settings)
        ok = run_pipeline(settings, exclude=["score_teams+"])
        failed = run_pipeline(settings)
    assert failed.status == RunState.FAILED, failed
    assert ok.status == RunState.SUCCESS, ok
    return Seeded(root, database_url, reader_url, str(failed.run_id), str(ok.run_id))


@pytest.fixture(autouse=True)
def restore_main_module() -> Iterator[None]:
    """Put the real ``__main__`` back after each test: processes spawned later (Dask's worker
    processes) re-import ``__main__`` and would otherwise run a deleted app script."""
    yield
    sys.modules["__main__"] = REAL_MAIN


@pytest.fixture
def dashboard(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:
    """The environment the dashboard runs in: the seeded project's settings and database."""
    monkeypatch.setenv("DATABASE_URL", seeded.database_url)
    monkeypatch.setenv("PIPELINE_SETTINGS", str(seeded.root / "settings.yml"))
    yield seeded
    st.cache_data.clear()


def _app(package: str, start: str) -> None:
    import importlib

    importlib.import_module(f"{package}.dashboard.navigation").main(start)


def _open_page(page: str, **query: str) -> AppTest:
    app = AppTest.from_function(_app, args=(PACKAGE, page), default_timeout=APP_TIMEOUT_S)
    app.query_params.update(query)
    return app.run()


@pytest.fixture
def open_page(dashboard: Seeded) -> Callable[..., AppTest]:
    """Run the dashboard in AppTest on the seeded database, starting on a page (its URL path)
    with the given query parameters."""
    return _open_page
