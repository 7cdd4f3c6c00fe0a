"""Helpers for the engine tests: write models into a test project, migrate it, run it, read the
ledger back, and start the CLI in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from {{ cookiecutter.package_name }}.core.report import RunObserver, RunReport
from {{ cookiecutter.package_name }}.core.runner import run_pipeline
from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.models import PipelineRun, TaskRun
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import Settings, load_settings
from {{ cookiecutter.package_name }}.status import TaskState

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SRC = PROJECT_ROOT / "src"
PACKAGE = RunReport.__module__.split(".")[0]


def write_models(root: Path, source: str, module: str = "pipeline") -> Path:
    """Write ``models/<module>.py`` (dedented) into the project at ``root``."""
    folder = root / "models"
    folder.mkdir(exist_ok=True)
    path = folder / f"{module}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def with_example(settings: Settings) -> Settings:
    """The project's own example models and seeds copied into the test project."""
    for folder in ("models", "seeds"):
        shutil.copytree(
            PROJECT_ROOT / folder,
            settings.root / folder,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return settings


FINGERPRINT_SCRIPT = """
import sys
from {{ cookiecutter.package_name }}.core.cache import fingerprints
from {{ cookiecutter.package_name }}.core.runner import load_dag
from {{ cookiecutter.package_name }}.settings import load_settings

settings = load_settings(sys.argv[1])
print(sorted(fingerprints(load_dag(settings), settings.task_config).items()))
"""


def fingerprints_per_hash_seed(project: Path) -> set[str]:
    """The project's task fingerprints, printed by fresh interpreters under three hash seeds
    (one distinct output means they do not depend on the seed)."""
    outputs = set()
    for seed in ("0", "1", "12345"):
        done = subprocess.run(
            [sys.executable, "-c", FINGERPRINT_SCRIPT, str(project / "settings.yml")],
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(SRC), "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout)
    return outputs


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    """The test project's settings, its database upgraded to head."""
    upgrade(settings)
    return settings


@dataclass
class Recorder(RunObserver):
    """Keeps every event of a run, in order."""

    events: list[tuple[Any, ...]] = field(default_factory=list)

    def task_started(self, name: str, attempt: int) -> None:
        self.events.append(("start", name, attempt))

    def task_finished(
        self, name: str, state: TaskState, attempt: int, reason: str | None, error: str | None
    ) -> None:
        self.events.append(("end", name, state, attempt))


def run(settings: Settings, **options: Any) -> RunReport:
    """``run_pipeline`` with a quiet observer."""
    options.setdefault("observer", Recorder())
    return run_pipeline(settings, **options)


def task_rows(settings: Settings, run_id: str | None = None) -> list[Any]:
    """Every ``task_runs`` row (of one run), in insertion order."""
    engine = make_engine(settings.database_url)
    try:
        query = select(TaskRun.__table__).order_by(TaskRun.id)
        if run_id:
            query = query.where(TaskRun.run_id == run_id)
        with engine.connect() as conn:
            return list(conn.execute(query))
    finally:
        engine.dispose()


def run_rows(settings: Settings) -> list[Any]:
    """Every ``pipeline_runs`` row, oldest first."""
    engine = make_engine(settings.database_url)
    try:
        query = select(PipelineRun.__table__).order_by(PipelineRun.started_at)
        with engine.connect() as conn:
            return list(conn.execute(query))
    finally:
        engine.dispose()


def reload(settings: Settings) -> Settings:
    """Settings read again from disk (after settings.yml was edited)."""
    return load_settings(settings.root / "settings.yml")


def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for a CLI subprocess on the test project and database."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    env["PIPELINE_SETTINGS"] = str(settings.root / "settings.yml")
    env["DATABASE_URL"] = settings.database_url.render_as_string(hide_password=False)
    return env


def cli(settings: Settings, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``python -m <package> args...`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        cwd=settings.root,
        env=cli_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(settings: Settings, *args: str) -> subprocess.Popen:
    """Start ``python -m <package> args...`` without waiting."""
    return subprocess.Popen(
        [sys.executable, "-m", PACKAGE, *args],
        cwd=settings.root,
        env=cli_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
