"""The benchmarks' scratch project: this project's settings and migrations copied into a folder,
its ledger on a fresh SQLite database, the environment its commands run in, and the 200-task
models file the cached-run measurements time."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from {{ cookiecutter.package_name }}.core.task import Task
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Task.__module__.split(".")[0]
MANY_TASKS = 200

# 200 no-op tasks ``step_000``..``step_199``, each depending on the one before and on its half.
MANY_MODELS = """
from PACKAGE.core.task import Task


def step():
    return None


made = []
for i in range(200):
    parents = [made[j] for j in (i - 1, i // 2) if 0 <= j < i]
    made.append(Task(name="step_%03d" % i, depends_on=list(dict.fromkeys(parents)))(step))
""".replace("PACKAGE", PACKAGE)


def copy_project(folder: Path) -> None:
    """This project's ``settings.yml``, ``alembic.ini`` and migrations copied into ``folder``
    (made if missing), with a ``models`` folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("settings.yml", "alembic.ini"):
        shutil.copy(ROOT / name, folder / name)
    shutil.copytree(ROOT / "migrations", folder / "migrations", dirs_exist_ok=True)
    (folder / "models").mkdir(exist_ok=True)


def migrated_settings(folder: Path) -> Settings:
    """The settings of the project copied into ``folder``, on a fresh SQLite database
    (``data/bench.db``, also set as this process's ``DATABASE_URL``) upgraded to head."""
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'data' / 'bench.db'}"
    settings = load_settings(folder / "settings.yml")
    upgrade(settings)
    return settings


def write_many_models(folder: Path) -> None:
    """The 200-task models file, as ``models/many.py`` of the project in ``folder``."""
    (folder / "models" / "many.py").write_text(MANY_MODELS)


def command_env(folder: Path) -> dict[str, str]:
    """This process's environment for the project's commands: the settings of the project in
    ``folder``, and this project's ``src`` first on ``PYTHONPATH``."""
    env = {**os.environ, "PIPELINE_SETTINGS": str(folder / "settings.yml")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env
