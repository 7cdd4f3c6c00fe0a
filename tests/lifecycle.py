"""Shared steps of the lifecycle tests: template copies under git, and the baked project's Python.

A template copy is what a contributor's clone holds (cookiecutter.json, hooks/ and the project
folder), committed in a throwaway repository so that cookiecutter and cruft can check out any
version of it.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from manifest import PROJECT_TEMPLATE, TEMPLATE

__all__ = [
    "GIT_IDENTITY",
    "commit_all",
    "copy_template",
    "git",
    "project_python",
    "run_in_project",
]

TEMPLATE_PARTS = ("cookiecutter.json", "hooks", PROJECT_TEMPLATE.name)
SKIPPED = shutil.ignore_patterns("__pycache__", "*.py[cod]", ".pytest_cache", ".hypothesis")
# Commits in the throwaway repositories must not depend on the machine's git configuration.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "template-tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "template-tests@example.com",
}
# What the baked project imports at run time (its pyproject's dependencies, as import names).
PROJECT_IMPORTS = (
    "alembic",
    "croniter",
    "dotenv",
    "pandas",
    "pydantic",
    "pymysql",
    "rich",
    "sqlalchemy",
    "tenacity",
    "typer",
    "yaml",
)


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity; its output, or an error with git's message."""
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout.rstrip()


def commit_all(repo: Path, message: str) -> str:
    """Commit everything in ``repo`` and return the new commit's hash."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "--message", message)
    return git(repo, "rev-parse", "HEAD")


def copy_template(destination: Path) -> Path:
    """A copy of the template as it is on disk now, in a new git repository on branch main."""
    destination.mkdir(parents=True)
    for part in TEMPLATE_PARTS:
        source = TEMPLATE / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=SKIPPED)
        else:
            shutil.copy2(source, destination / part)
    git(destination, "init", "--quiet", "--initial-branch=main")
    return destination


@functools.cache
def project_python() -> str:
    """A Python that can run the baked project: this one when it has the project's dependencies,
    else a throwaway virtualenv with them (the template's own venv holds only its test tools)."""
    if all(importlib.util.find_spec(name) for name in PROJECT_IMPORTS):
        return sys.executable
    folder = Path(tempfile.mkdtemp(prefix="project-python-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = str(folder / "bin" / "python")
    requirements = bake_requirements()
    subprocess.run([python, "-m", "pip", "install", "--quiet", *requirements], check=True)
    return python


def bake_requirements() -> list[str]:
    """The baked project's runtime dependencies plus pytest and hypothesis, read from its template
    pyproject.toml (the dependency list there holds no Jinja)."""
    text = (PROJECT_TEMPLATE / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[\n(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    assert block, "no dependency list in the project's pyproject.toml"
    lines = [line.split("#")[0].strip() for line in block[1].splitlines()]
    requirements = [line.strip('",') for line in lines if line and not line.startswith("{%")]
    return requirements + ["pytest>=8.0", "hypothesis>=6.100"]


def run_in_project(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python <args>`` in the baked project with ``PYTHONPATH=src``, as its README runs it."""
    return subprocess.run(
        [project_python(), *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": "src", "PYTHONDONTWRITEBYTECODE": "1", **env},
        capture_output=True,
        text=True,
    )
