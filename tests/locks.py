"""Resolve again the lock files the template ships, one pair per lock variant (`make locks`).

Each variant is baked and locked by its own `scripts/lock.py`, as a user's `make lock` would. The
widest variant (PostgreSQL and the dashboard) goes first; the others are resolved under its dev
lock as a constraint (UV_CONSTRAINT, which uv leaves out of the file's header), so a version is
the same in every lock and one wheelhouse serves every bake.

    python tests/locks.py [--upgrade]    # this Python needs uv (`make locks`) and the index
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

from manifest import TEMPLATE

LOCKS = TEMPLATE / "{{cookiecutter.project_slug}}" / "locks"
LOCK_FILES = ("requirements.txt", "requirements-dev.txt")
# Variant name -> the answers that give it; the first is the widest.
VARIANTS = {
    "postgresql-dashboard": {"database": "postgresql", "include_dashboard": True},
    "postgresql": {"database": "postgresql", "include_dashboard": False},
    "core-dashboard": {"database": "sqlite", "include_dashboard": True},
    "core": {"database": "sqlite", "include_dashboard": False},
}
WIDEST = LOCKS / "postgresql-dashboard" / "requirements-dev.txt"


def lock_variant(name: str, answers: dict, upgrade: bool, work: Path) -> None:
    """Bake ``answers``, start from the shipped locks, resolve them again, copy them back."""
    project = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            output_dir=str(work / name),
            extra_context={**answers, "include_github_actions": False},
        )
    )
    env = {**os.environ}
    if name != "postgresql-dashboard":
        env["UV_CONSTRAINT"] = str(WIDEST)
    command = [sys.executable, "scripts/lock.py", *(["--upgrade"] if upgrade else [])]
    subprocess.run(command, cwd=project, env=env, check=True)
    for lock in LOCK_FILES:
        shutil.copyfile(project / lock, LOCKS / name / lock)


def main(argv: list[str]) -> int:
    upgrade = "--upgrade" in argv[1:]
    with tempfile.TemporaryDirectory() as work:
        for name, answers in VARIANTS.items():
            lock_variant(name, answers, upgrade and name == "postgresql-dashboard", Path(work))
            print(f"locked {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
