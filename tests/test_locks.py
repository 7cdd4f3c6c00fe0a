"""Every bake ships lock files resolved from its own pyproject.toml: universal, hashed, current.

A lock cannot be resolved again offline, so staleness is read from the requirements each lock
records (``scripts/lock.py --check`` in the bake, the check `make install` runs first).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import OPTION_SETS, set_id
from lockfile import hashed, pins
from locks import LOCK_FILES, LOCKS, VARIANTS

SHIPPED = sorted(LOCKS.glob("*/*.txt"))
DEV_TOOLS = {"black", "isort", "pytest", "hypothesis", "pre-commit", "playwright"}


def check(project: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "scripts/lock.py", "--check"]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("answers", OPTION_SETS, ids=[set_id(a) for a in OPTION_SETS])
def test_each_bake_gets_the_locks_of_its_own_requirements(baked, answers) -> None:
    project = baked(answers)
    done = check(project)
    assert done.returncode == 0, done.stderr
    assert not (project / "locks").exists()
    for name in LOCK_FILES:
        assert hashed(project / name), name


def test_a_changed_requirement_makes_the_lock_stale(baked, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(baked(OPTION_SETS[0]), project)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert '"pandas>=2.2.2"' in text
    pyproject.write_text(text.replace('"pandas>=2.2.2"', '"pandas>=2.3"'), encoding="utf-8")
    done = check(project)
    assert done.returncode == 1
    assert "requirements.txt and requirements-dev.txt" in done.stderr
    assert "make lock" in done.stderr and "Traceback" not in done.stderr


def test_the_template_ships_one_pair_of_locks_per_variant() -> None:
    assert {path.relative_to(LOCKS).as_posix() for path in SHIPPED} == {
        f"{variant}/{name}" for variant in VARIANTS for name in LOCK_FILES
    }


@pytest.mark.parametrize("lock", SHIPPED, ids=[p.relative_to(LOCKS).as_posix() for p in SHIPPED])
def test_each_lock_is_universal_and_hashed(lock: Path) -> None:
    header = lock.read_text(encoding="utf-8").splitlines()[1]
    assert "uv pip compile pyproject.toml --universal --generate-hashes" in header
    assert hashed(lock)
    # Universal: the pins Python 3.11 and 3.13 need differently both appear, under markers.
    assert any(marker and "python_full_version" in marker for _, _, marker in pins(lock))


def test_a_version_is_the_same_in_every_lock() -> None:
    """One wheelhouse serves every bake, and a bake's image runs what its tests ran."""
    seen: dict[tuple[str, str | None], set[str]] = {}
    for lock in SHIPPED:
        for name, version, marker in pins(lock):
            seen.setdefault((name, marker), set()).add(version)
    assert {key: versions for key, versions in seen.items() if len(versions) > 1} == {}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_image_lock_has_no_dev_tools(variant: str) -> None:
    runtime = {name for name, _, _ in pins(LOCKS / variant / "requirements.txt")}
    assert "dask" in runtime and not runtime & DEV_TOOLS
    assert ("streamlit" in runtime) == variant.endswith("dashboard")
    assert ("psycopg" in runtime) == variant.startswith("postgresql")
