"""Failure paths of the dashboard's database: a port out of range, a MySQL database with no
read-only user to read it as, and the hint for a server that is down."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_support import write_models
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from test_failure_database import MODELS, SECRET, assert_one_paragraph, cli, unreachable

from {{ cookiecutter.package_name }}.dashboard.connection import dashboard_url, describe_error
from {{ cookiecutter.package_name }}.settings import load_settings


@pytest.fixture
def models_project(project: Path) -> Path:
    write_models(project, MODELS)
    return project


@pytest.mark.parametrize("port", ["70000", "0", "-1"])
def test_dashboard_refuses_a_port_out_of_range_without_a_traceback(
    models_project: Path, port: str
) -> None:
    url = f"sqlite:///{models_project / 'data' / 'fresh.db'}"
    done = cli(models_project, url, "dashboard", "--port", port)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "--port" in done.stderr


def test_dashboard_on_mysql_without_a_read_only_user_refuses_naming_dashboard_url(
    models_project: Path,
) -> None:
    done = cli(models_project, unreachable(models_project), "dashboard", "--port", "8599")
    assert_one_paragraph(done, ("dashboard.url", "MYSQL_READONLY_USER", "read-only"))


def test_dashboard_on_mysql_without_dashboard_url_reads_as_the_read_only_user_of_dotenv(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MYSQL_READONLY_USER")
    monkeypatch.delenv("MYSQL_READONLY_PASSWORD")
    monkeypatch.setenv("DATABASE_URL", "mysql+pymysql://pipeline:rw-pass@127.0.0.1:3306/proj")
    (project / ".env").write_text(
        "MYSQL_READONLY_USER=reader\nMYSQL_READONLY_PASSWORD=ro-pass\n", encoding="utf-8"
    )
    url = dashboard_url(load_settings(project / "settings.yml"))
    assert (url.username, url.password, url.database) == ("reader", "ro-pass", "proj")


def test_the_hint_for_a_database_server_that_is_down_names_make_db_up_and_service_db() -> None:
    url = unreachable(Path("."))
    engine = create_engine(url)
    try:
        with pytest.raises(OperationalError) as caught:
            engine.connect()
    finally:
        engine.dispose()
    message = describe_error(caught.value, url)
    assert "make db-up" in message and "docker compose up -d db`" in message
    assert SECRET not in message
