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

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The smoke set (``-m smoke``, part of `make test`): seconds that prove the bake is sound. Its
# settings load and match their schema, the migrations reach head, the example pipeline runs
# end to end, the README's commands work. Each module's chosen test functions (all their
# parameters); None: the whole module.
SMOKE: dict[str, frozenset[str] | None] = {
    "test_engine_example.py": frozenset({"test_the_example_runs_and_materializes_its_tables"}),
    "test_migrations.py": frozenset(
        {"test_upgrade_creates_every_model_table", "test_models_and_migrations_do_not_drift"}
    ),
    "test_readme_commands.py": None,
    "test_settings.py": frozenset({"test_the_shipped_settings_file_loads"}),
    "test_settings_schema.py": frozenset(
        {
            "test_the_committed_schema_is_the_one_the_model_generates",
            "test_the_shipped_settings_yml_validates",
        }
    ),
}
# `make test`'s selection: the project's own tests and the framework's smoke set. Under exactly
# this ``-m``, the framework modules without a smoke test are not even imported.
QUICK_SELECTION = "not framework or smoke"
FRAMEWORK = Path(__file__).resolve().parent
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


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `make test`'s selection, skip the framework's folders and modules with no smoke
    test: importing all of them takes longer than the smoke set runs."""
    if config.option.markexpr != QUICK_SELECTION or collection_path == FRAMEWORK:
        return None
    if not collection_path.resolve().is_relative_to(FRAMEWORK):
        return None
    if collection_path.is_dir():
        return True
    if collection_path.name.startswith("test_") and collection_path.name not in SMOKE:
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/framework/ ``framework``, and the ``SMOKE`` ones ``smoke``.

    The hook sees the whole session's tests: those outside this folder (the project's own) are
    left as they are.
    """
    for item in items:
        if not item.path.resolve().is_relative_to(FRAMEWORK):
            continue
        item.add_marker(pytest.mark.framework)
        chosen = SMOKE.get(item.path.name, frozenset())
        name = getattr(item, "originalname", item.name)
        if chosen is None or name in chosen:
            item.add_marker(pytest.mark.smoke)
