"""Shared fixtures: a project folder with its own SQLite file, MySQL when MYSQL_URL is set and
PostgreSQL when POSTGRES_URL is set.

``MYSQL_URL`` and ``POSTGRES_URL`` name server URLs whose user may create databases. With
``REQUIRE_MYSQL=1`` (``REQUIRE_POSTGRES=1``) a test that needs that server fails instead of
skipping, so CI cannot go green without it.

The test project's settings.yml names the database under test, never the one this project was
baked for: a copy of a MySQL project's settings would need its ``.env`` secrets in every
subprocess and Dask worker, and the framework's tests would depend on the bake's choice.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from mysql_support import BACKENDS, fresh_database, url_string
from sqlalchemy import Engine

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

pytest_plugins = ["{{ cookiecutter.package_name }}.testing.plugin"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The smoke set (``-m smoke``): the modules that read the project's own files (settings.yml,
# compose, README, migrations) and run its example pipeline; a minute, not the whole suite.
SMOKE_MODULES = {
    "test_deploy_commands.py",
    "test_engine_example.py",
    "test_migrations.py",
    "test_package_structure.py",
    "test_readme_commands.py",
    "test_settings.py",
    "test_settings_schema.py",
    "test_setup_defaults.py",
}
# What a SQLite project's settings.yml says; the ``settings`` fixture names the database instead.
DEFAULT_CONNECTION = {"url": "${DATABASE_URL:-sqlite:///data/warehouse.db}"}


def write_settings(root: Path, connection: dict[str, str] = DEFAULT_CONNECTION) -> Path:
    """This project's settings.yml in ``root``, with ``connection`` as its connection block.

    The dashboard's read-only URL goes too (the dashboard then reads the project database).
    """
    data = yaml.safe_load((PROJECT_ROOT / "settings.yml").read_text(encoding="utf-8"))
    data["connection"] = connection
    data.get("dashboard", {}).pop("url", None)
    path = root / "settings.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """This project's settings (on SQLite unless told otherwise), alembic.ini and migrations in
    a fresh folder."""
    root = tmp_path / "project"
    root.mkdir()
    write_settings(root)
    shutil.copy(PROJECT_ROOT / "alembic.ini", root / "alembic.ini")
    shutil.copytree(
        PROJECT_ROOT / "migrations",
        root / "migrations",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return root


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, project: Path) -> Iterator[str]:
    """A fresh, empty database on each backend: a SQLite file, or a new MySQL or PostgreSQL
    database."""
    if request.param == "sqlite":
        yield f"sqlite:///{project / 'data' / 'test.db'}"
        return
    with fresh_database(request.param) as url:
        yield url_string(url)


@pytest.fixture
def settings(project: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings of the test project, naming the test database in settings.yml and in
    ``DATABASE_URL``: a process that sees only one of them (a Dask worker, a subprocess with a
    clean environment) still reaches the same database."""
    path = write_settings(project, {"url": database_url})
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PIPELINE_SETTINGS", str(path))
    return load_settings(path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the test database (not migrated)."""
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of ``SMOKE_MODULES`` as ``smoke``."""
    for item in items:
        if item.path.name in SMOKE_MODULES:
            item.add_marker(pytest.mark.smoke)
