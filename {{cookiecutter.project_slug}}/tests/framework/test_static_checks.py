"""`make lint` catches what it promises: on a copy of the project, a type error fails mypy and an
unused import fails ruff, each naming the file, while the project as it stands passes every check.

The commands are read from the Makefile's ``lint`` recipe, so the test follows what `make lint`
runs. The copy has a cold mypy cache: the clean run fills it (about a minute), the broken runs
reuse it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# A cold mypy cache: a minute alone, several on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Not copied: the venv, VCS data, caches, local data and build output.
NOT_COPIED = shutil.ignore_patterns(
    ".venv", ".git", "data", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".coverage*"
)
TOOLS = ("black", "isort", "ruff", "mypy")


def lint_commands() -> list[list[str]]:
    """The commands of the Makefile's ``lint`` recipe, with ``$(BIN)`` this venv's bin."""
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no lint recipe"
    lines = [line.strip() for line in recipe.group(1).splitlines()]
    return [shlex.split(line.replace("$(BIN)", str(BIN))) for line in lines]


def run_checks(root: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every lint command on ``root`` (all of them, not stopping at the first failure)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    return {
        Path(command[0]).name: subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=600
        )
        for command in lint_commands()
    }


def failed(results: dict[str, subprocess.CompletedProcess[str]]) -> dict[str, str]:
    return {tool: done.stdout + done.stderr for tool, done in results.items() if done.returncode}


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("lint") / PROJECT_ROOT.name
    shutil.copytree(PROJECT_ROOT, root, ignore=NOT_COPIED)
    yield root


@pytest.fixture
def package(project_copy: Path) -> Path:
    """The copy's framework package (``src/<package>``)."""
    return next(p for p in (project_copy / "src").iterdir() if (p / "__init__.py").is_file())


def test_make_lint_runs_black_isort_ruff_and_mypy() -> None:
    assert [Path(command[0]).name for command in lint_commands()] == list(TOOLS)


def test_the_project_as_it_stands_passes_every_check(project_copy: Path) -> None:
    assert failed(run_checks(project_copy)) == {}


def test_a_type_error_in_the_package_fails_mypy_naming_it(
    project_copy: Path, package: Path
) -> None:
    broken = package / "broken_types.py"
    broken.write_text('"""A type error."""\n\n\ndef answer() -> int:\n    return "forty-two"\n')
    try:
        problems = failed(run_checks(project_copy))
    finally:
        broken.unlink()
    assert list(problems) == ["mypy"], problems
    assert f"{broken.relative_to(project_copy)}:5: error" in problems["mypy"]
    assert "[return-value]" in problems["mypy"]


def test_an_unused_import_fails_ruff_naming_it(project_copy: Path) -> None:
    broken = project_copy / "models" / "unused_import.py"
    broken.write_text('"""An unused import."""\n\nimport json\n')
    try:
        problems = failed(run_checks(project_copy))
    finally:
        broken.unlink()
    assert list(problems) == ["ruff"], problems
    assert "F401" in problems["ruff"]
    assert f"{broken.relative_to(project_copy)}:3:8" in problems["ruff"]


def test_tasks_under_models_need_no_annotations(project_copy: Path) -> None:
    """mypy is lenient on the user's tasks: an unannotated function passes, its bugs do not."""
    task = project_copy / "models" / "untyped_task.py"
    task.write_text('"""An unannotated task."""\n\n\ndef double(x):\n    return x * 2\n')
    try:
        assert failed(run_checks(project_copy)) == {}
        task.write_text(task.read_text() + "\n\nLENGTH = len(double)\n")
        problems = failed(run_checks(project_copy))
    finally:
        task.unlink()
    assert list(problems) == ["mypy"], problems
    assert f"{task.relative_to(project_copy)}:8: error" in problems["mypy"]
