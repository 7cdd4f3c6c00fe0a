"""The first hour: the project's set-up files work as they are and keep secrets where they belong.

Docker cannot run in every test environment, so the compose file and the Dockerfile are read
here for the properties that matter (no hand-made `.env` needed, one image, least credentials);
`test_container_signals.py` runs their commands for real.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from engine_support import cli_env

from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_alembic_commands_print_their_log_lines_not_the_format_string(settings: Settings) -> None:
    upgrade(settings)
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "current"],
        cwd=settings.root,
        env=cli_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "%(levelname)" not in done.stderr
    assert "INFO  [alembic.runtime.migration]" in done.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_ingest_archive_is_not_committed(tmp_path: Path) -> None:
    shutil.copy(PROJECT_ROOT / ".gitignore", tmp_path / ".gitignore")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    archived = "data/raw/orders/2026/12/02/orders.csv"
    done = subprocess.run(["git", "check-ignore", "-q", archived], cwd=tmp_path)
    assert done.returncode == 0, f"{archived} would be committed by `git add -A`"


def strings(value: object) -> list[str]:
    """Every string in a loaded YAML document (comments are not part of it)."""
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return [value] if isinstance(value, str) else []


def test_compose_starts_without_a_hand_made_env_file() -> None:
    assert all("env_file" not in service for service in SERVICES.values())
    undefaulted = sorted({v for s in strings(COMPOSE) for v in re.findall(r"\$\{(\w+)\}", s)})
    assert undefaulted == [], "each ${VAR} needs a local-development default: ${VAR:-value}"


def test_each_service_gets_only_the_credentials_it_needs() -> None:
    def variables(name: str) -> str:
        return " ".join(f"{k}={v}" for k, v in SERVICES[name].get("environment", {}).items())

    assert "MYSQL_ROOT_PASSWORD" not in variables("pipeline")
    if "dashboard" in SERVICES:
        dashboard = variables("dashboard")
        assert "MYSQL_ROOT_PASSWORD" not in dashboard
        assert not re.search(r"\bMYSQL_PASSWORD\b", dashboard)
        assert not re.search(r"\$\{MYSQL_USER\b", dashboard)


def test_the_database_healthcheck_keeps_the_password_off_the_command_line() -> None:
    check = " ".join(SERVICES["db"]["healthcheck"]["test"])
    assert "--password" not in check and not re.search(r"\s-p\S", check)


def test_the_pipeline_image_is_built_once_and_shared() -> None:
    builders = [name for name, service in SERVICES.items() if "build" in service]
    assert builders == ["pipeline"]
    image = SERVICES["pipeline"]["image"]
    users = [name for name, service in SERVICES.items() if service.get("image") == image]
    assert users == [name for name in SERVICES if name != "db"]


def test_the_image_installs_the_lock_with_dask_and_without_dev_tools() -> None:
    install = [line for line in DOCKERFILE.splitlines() if line.startswith("RUN pip install")]
    lock_install = "RUN pip install --no-deps --require-hashes --requirement requirements.txt"
    assert install[0] == f"{lock_install} \\"
    assert "&& pip check" in DOCKERFILE  # --no-deps: pip check proves the lock complete
    assert all("--no-deps" in line for line in install[1:])
    lock = (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8")
    pinned = {line.split("==")[0] for line in lock.splitlines() if "==" in line[:60]}
    assert {"dask", "distributed"} <= pinned  # the image serves as a Dask worker too
    assert not pinned & {"pytest", "black", "isort", "hypothesis", "pre-commit", "playwright"}


def test_the_code_in_the_image_is_not_writable_by_its_runtime_user() -> None:
    copies = [line for line in DOCKERFILE.splitlines() if line.startswith("COPY")]
    assert copies and all("--chown" not in line for line in copies)
    assert "chown app:app data dags" in DOCKERFILE


def test_compose_marks_its_example_passwords_as_development_only() -> None:
    for name in ("pipeline", *(["dashboard"] if "dashboard" in SERVICES else [])):
        assert SERVICES[name]["environment"]["PIPELINE_ENV"] == "${PIPELINE_ENV:-dev}"
