"""The dashboard's connection is read-only, finds the right database, and its launcher binds
to the configured address."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from {{ cookiecutter.package_name }}.dashboard.connection import dashboard_url, read_only_engine
from {{ cookiecutter.package_name }}.dashboard.launch import APP, command, environment
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

PACKAGE = "{{ cookiecutter.package_name }}"
SRC = Path(__file__).resolve().parents[3] / "src"


def test_the_dashboard_connection_refuses_every_write(settings: Settings) -> None:
    upgrade(settings)
    engine = read_only_engine(settings.database_url)
    try:
        with pytest.raises(DBAPIError, match="(?i)read.?only"):
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM pipeline_runs"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pipeline_runs")).scalar_one() == 0
    finally:
        engine.dispose()


def test_without_a_dashboard_url_it_reads_the_project_database(settings: Settings) -> None:
    expected = settings.database_url
    backend = expected.get_backend_name()
    if backend != "sqlite":  # as the read-only user, never the pipeline's
        prefix = "POSTGRES" if backend == "postgresql" else "MYSQL"
        expected = expected.set(
            username=os.environ[f"{prefix}_READONLY_USER"],
            password=os.environ[f"{prefix}_READONLY_PASSWORD"],
        )
    assert dashboard_url(settings) == expected


def test_a_relative_sqlite_dashboard_url_counts_from_the_project(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (project / "settings.yml").write_text(
        "project:\n  name: x\ndashboard:\n  url: sqlite:///data/replica.db\n", encoding="utf-8"
    )
    settings = load_settings(project / "settings.yml")
    assert dashboard_url(settings).database == str((project / "data" / "replica.db").resolve())


def test_the_server_binds_to_the_configured_host_and_port(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHBOARD_PORT", "8765")
    settings = load_settings(project / "settings.yml")
    argv = command(settings)
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--server.port") + 1] == "8765"
    assert argv[argv.index("run") + 1] == str(APP)


def test_the_server_reads_the_same_settings_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_SETTINGS", raising=False)
    settings = load_settings(project / "settings.yml")
    assert environment(settings)["PIPELINE_SETTINGS"] == str(project / "settings.yml")


def test_the_cli_has_a_dashboard_command() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE, "dashboard", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout and "read-only" in done.stdout
