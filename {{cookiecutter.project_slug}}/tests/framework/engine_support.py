"""Helpers for the engine tests: write models into a test project, migrate it, build random DAGs,
run them, read the ledger back, and start the CLI in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from sqlalchemy import select

from {{ cookiecutter.package_name }}.core.dag import Dag
from {{ cookiecutter.package_name }}.core.discovery import discover_path
from {{ cookiecutter.package_name }}.core.report import RunObserver, RunReport
from {{ cookiecutter.package_name }}.core.runner import run_pipeline
from {{ cookiecutter.package_name }}.core.task import Task
from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.models import PipelineRun, TaskRun
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import Settings, TaskSettings, load_settings
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


def models_body(root: Path, source: str, module: str) -> Callable[..., Any]:
    """The ``body`` function of ``source``, written as ``models/<module>.py`` under ``root`` and
    imported the way the engine discovers models (so Dask workers can import it too)."""
    write_models(root, source, module=module)
    discover_path(root)
    return sys.modules[f"models.{module}"].body  # type: ignore[no-any-return]


@st.composite
def graphs(draw, min_size: int = 1):  # type: ignore[no-untyped-def]
    """(parents per node, failures before success per node, retries per node) of a random DAG of
    ``min_size`` to 12 nodes, each with up to 3 parents among the nodes before it."""
    size = draw(st.integers(min_value=min_size, max_value=12))
    parents = [
        sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else [] for i in range(size)
    ]
    failures = draw(st.lists(st.integers(0, 2), min_size=size, max_size=size))
    retries = draw(st.lists(st.integers(0, 1), min_size=size, max_size=size))
    return parents, failures, retries


def random_dag(
    parents: list[list[int]], retries: list[int], body_of: Callable[[int], Callable[..., Any]]
) -> Dag:
    """Tasks ``t0``, ``t1``, ...: task ``i`` runs ``body_of(i)``, depends on the tasks of
    ``parents[i]`` and is retried ``retries[i]`` times without delay."""
    tasks: dict[str, Task] = {}
    for i, ups in enumerate(parents):
        deps = [tasks[f"t{p}"] for p in ups]
        task = Task(name=f"t{i}", depends_on=deps, retry=retries[i], retry_delay=0)
        tasks[f"t{i}"] = task(body_of(i))
    return Dag.from_tasks(tasks)


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


def with_failures(
    settings: Settings, events: Path, failures: list[int], **extra: float
) -> Settings:
    """Settings read again, with a config block per task ``t<i>``: fail the first
    ``failures[i]`` attempts and append each start to ``events`` (and any ``extra`` keys)."""
    blocks = {
        f"t{i}": TaskSettings(failures=count, events=str(events), **extra)
        for i, count in enumerate(failures)
    }
    return reload(settings).model_copy(update={"tasks": blocks})


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
