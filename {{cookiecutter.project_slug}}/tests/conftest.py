"""Shared fixtures: a project folder with its own SQLite file, and MySQL when MYSQL_URL is set.

``MYSQL_URL`` names a server URL whose user may create databases. With ``REQUIRE_MYSQL=1`` a
test that needs MySQL fails instead of skipping, so CI cannot go green without it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from mysql_support import BACKENDS, mysql_server_url
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of this project's settings, alembic.ini and migrations in a fresh folder."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("settings.yml", "alembic.ini"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(
        PROJECT_ROOT / "migrations",
        root / "migrations",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return root


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, project: Path) -> Iterator[str]:
    """A fresh, empty database on each backend: a SQLite file, or a new MySQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{project / 'data' / 'test.db'}"
        return
    server = make_url(mysql_server_url())
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture
def settings(project: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings of the copied project, pointing at the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PIPELINE_SETTINGS", str(project / "settings.yml"))
    return load_settings(project / "settings.yml")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the test database (not migrated)."""
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()
