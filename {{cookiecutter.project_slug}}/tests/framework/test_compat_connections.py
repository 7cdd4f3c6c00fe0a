"""PyDBT's ``connections`` modules: ``get_engine()`` is the project's engine, and each dialect
module refuses, in one paragraph and exit code 2, a project whose database is of another kind."""

from __future__ import annotations

import importlib

import pytest
from engine_support import PACKAGE, cli, write_models
from sqlalchemy import Engine, text

from {{ cookiecutter.package_name }}.connections import get_engine
from {{ cookiecutter.package_name }}.errors import DatabaseSetupError
from {{ cookiecutter.package_name }}.settings import Settings

FAMILIES = {"sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql"}


def family(settings: Settings) -> str:
    return FAMILIES[settings.database_url.get_backend_name()]


def reads_one(engine: Engine) -> int:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar_one()
    finally:
        engine.dispose()


def test_get_engine_opens_the_project_database_from_settings(settings: Settings) -> None:
    engine = get_engine()  # settings.yml found as a user's code finds it (PIPELINE_SETTINGS)
    url, opened = settings.database_url, engine.url
    assert (opened.get_backend_name(), opened.database) == (url.get_backend_name(), url.database)
    assert reads_one(engine) == 1


def test_the_dialect_module_of_the_projects_kind_opens_it(settings: Settings) -> None:
    module = importlib.import_module(f"{PACKAGE}.connections.{family(settings)}")
    engine = module.get_engine()
    assert engine.url.database == settings.database_url.database
    assert reads_one(engine) == 1


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_another_dialect_module_refuses_naming_both_kinds(settings: Settings, dialect) -> None:
    if dialect == family(settings):
        pytest.skip("the project's own kind opens (see the test above)")
    module = importlib.import_module(f"{PACKAGE}.connections.{dialect}")
    with pytest.raises(DatabaseSetupError) as caught:
        module.get_engine(settings)
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert message.startswith(f"connections.{dialect}.get_engine() opens a ")
    assert f"but the project's database is {settings.database_url.get_backend_name()}" in message
    assert f"or from connections.{family(settings)}" in message
    password = settings.database_url.password
    assert not password or password not in message


PYDBT_HEAD = """
from PACKAGE.sql.session import Session
from PACKAGE.core.task import Task
from PACKAGE.connections.postgresql import get_engine

engine = get_engine()
session = Session(engine=engine, schema="public")


@Task()
def task_one():
    session.table("predictions").show()
""".replace("PACKAGE", PACKAGE)


def test_a_model_on_the_wrong_dialect_stops_the_run_with_one_paragraph(
    settings: Settings,
) -> None:
    if family(settings) == "postgresql":
        pytest.skip("the example's own kind: see test_seeds_pydbt")
    write_models(settings.root, PYDBT_HEAD, module="some_processing")
    result = cli(settings, "run")
    shown = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, shown
    assert "Traceback" not in shown
    assert "models/some_processing.py:6" in shown
    assert "connections.postgresql.get_engine() opens a PostgreSQL database" in shown
    password = settings.database_url.password
    assert not password or password not in shown
