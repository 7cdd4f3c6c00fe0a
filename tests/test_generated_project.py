"""The default bake, installed for real in its own venv, passes its own suite and runs.

Slow: it builds a virtualenv (no system site-packages; pip's cache makes it quick after the
first time) and runs the project's `make install`, `make test` and `make run`. With MYSQL_URL
set, the project's suite runs on that server too; REQUIRE_MYSQL=1 turns its skips into failures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import OPTION_SETS, bake, set_id

pytestmark = pytest.mark.slow
# A sub-make must not inherit our make's command-line variables (PYTEST_ARGS=... and so on).
MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "MAKE_TERMOUT")
MAKE_VARIABLES += ("MAKE_TERMERR", "VIRTUAL_ENV", "PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES}
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, timeout: int, **env: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        args,
        cwd=cwd,
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        summary = "\n".join(failed[:40])
        pytest.fail(f"{' '.join(args)} exited {done.returncode}:\n{summary}\n{done.stdout[-4000:]}")
    return done


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default bake with `make install` done: its .venv holds the project and dev extras."""
    root = bake(tmp_path_factory.mktemp("installed"), **OPTION_SETS[0])
    run(["make", "install", f"PYTHON={sys.executable}"], root, timeout=1200)
    return root


def test_install_makes_an_isolated_venv_with_the_project(installed: Path) -> None:
    config = (installed / ".venv" / "pyvenv.cfg").read_text(encoding="utf-8")
    assert "include-system-site-packages = false" in config
    done = run([".venv/bin/python", "-c", "import my_pipeline.settings"], installed, timeout=120)
    assert done.stdout == ""


def test_the_projects_own_suite_passes(installed: Path) -> None:
    # With a server to test against, a skipped MySQL test must fail rather than pass quietly.
    mysql = {"REQUIRE_MYSQL": "1"} if os.environ.get("MYSQL_URL") else {}
    done = run(
        ["make", "test", "PYTEST_ARGS=-q -p no:cacheprovider"], installed, timeout=1500, **mysql
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary


def test_make_run_migrates_and_runs_the_example_pipeline(installed: Path) -> None:
    run(["make", "run"], installed, timeout=600, DATABASE_URL="")
    assert (installed / "data" / "warehouse.db").is_file()


def distinct_suites() -> list[dict]:
    """One option set per combination that changes which tests and modules exist."""
    seen, picked = set(), []
    for answers in OPTION_SETS[1:]:
        key = (answers["database"], answers["include_dashboard"], answers["package_name"])
        if key not in seen:
            seen.add(key)
            picked.append(answers)
    return picked


@pytest.mark.parametrize("answers", distinct_suites(), ids=[set_id(a) for a in distinct_suites()])
def test_other_bakes_import_and_collect_their_suite(installed: Path, baked, answers) -> None:
    root = baked(answers)
    python = str(installed / ".venv" / "bin" / "python")
    done = run(
        [python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        root,
        timeout=300,
        PYTHONPATH=str(root / "src"),
    )
    assert " collected" in done.stdout or "tests collected" in done.stdout
