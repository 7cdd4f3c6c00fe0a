"""The pull-request workflow end to end in a baked project: a git repository, a branch that
changes one task, ``make pr-diff BASE=main`` naming that task and exactly its descendants, and
``run --select state:modified+ --state ...`` running exactly those.

One bake and one install (slow: ``-m slow``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import OPTION_SETS, bake
from wheels import fill_wheelhouse, install_env

pytestmark = pytest.mark.slow

ANSWERS = OPTION_SETS[0]  # the defaults: SQLite
PACKAGE = ANSWERS["package_name"]
BEFORE = 'df = df.where(df.matchDate == "2022-12-30")'
AFTER = 'df = df.where(df.matchDate == "2022-12-29")'
GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]
# Make's own variables from an outer make (`make test` of the template) would leak into the bake's.
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES")


def sh(root: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command in the bake; with ``check``, a non-zero exit fails with its output."""
    environment = {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES}
    environment.pop("DATABASE_URL", None)
    environment.pop("PIPELINE_SETTINGS", None)
    done = subprocess.run(
        list(args),
        cwd=root,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The default bake installed, committed on main, and a branch that edits task_two."""
    root = bake(tmp_path_factory.mktemp("pr-workflow"), **ANSWERS)
    env = install_env(ANSWERS["python_version"], fill_wheelhouse(root), uv=True)
    sh(root, "make", "install", **env)
    sh(root, "git", "init", "--quiet", "--initial-branch=main")
    sh(root, "git", "add", "--all")
    sh(root, *GIT, "commit", "--quiet", "--message", "The generated project")
    sh(root, "git", "switch", "--quiet", "--create", "change-task-two")
    models = root / "models" / "predictions.py"
    source = models.read_text(encoding="utf-8")
    assert source.count(BEFORE) == 1
    models.write_text(source.replace(BEFORE, AFTER), encoding="utf-8")
    sh(root, *GIT, "commit", "--quiet", "--all", "--message", "task_two: another day")
    yield root


def table_rows(markdown: str) -> dict[str, str]:
    """The diff table: task -> its change."""
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \|", markdown, flags=re.MULTILINE)
    return dict(rows)


def test_make_pr_diff_names_the_changed_task_and_exactly_its_descendants(branch: Path) -> None:
    done = sh(branch, "make", "--no-print-directory", "pr-diff", "BASE=main")
    assert done.stdout.startswith("### Pipeline impact\n"), done.stdout
    assert table_rows(done.stdout) == {"task_two": "modified", "task_four": "downstream"}
    graph = done.stdout.split("```mermaid\n", 1)[1].split("```", 1)[0]
    nodes = set(re.findall(r'^\s*\w+\["(\w+)"\]:::\w+$', graph, flags=re.MULTILINE))
    assert nodes == {"task_two", "task_four"}
    assert "| code |" in done.stdout
    # The base's worktree is gone, and the branch is as it was.
    worktrees = sh(branch, "git", "worktree", "list", "--porcelain").stdout
    assert worktrees.count("worktree ") == 1
    assert sh(branch, "git", "status", "--porcelain").stdout == ""


def test_run_state_modified_plus_runs_exactly_those(branch: Path, tmp_path: Path) -> None:
    state = tmp_path / "base.json"
    sh(branch, "make", "--no-print-directory", "pr-diff", "BASE=main", f"STATE={state}")
    assert json.loads(state.read_text(encoding="utf-8"))["tasks"]["task_two"]
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'pull-request.db'}"}
    python = [".venv/bin/python", "-m", PACKAGE]
    sh(branch, *python, "migrate", **database)
    seed = ["--select", "+state:modified", "--exclude", "state:modified+"]
    sh(branch, *python, "run", "--full-refresh", *seed, "--state", str(state), **database)
    selected = ["--select", "state:modified+", "--state", str(state)]
    sh(branch, *python, "run", "--full-refresh", *selected, **database)
    shown = sh(branch, *python, "show-run", "last", "--json", **database)
    ran = {row["task"]: row["status"] for row in json.loads(shown.stdout)["tasks"]}
    assert ran == {"task_two": "success", "task_four": "success"}
    checked = sh(branch, "make", "pr-check", f"STATE={state}", **database)
    assert "no checks: task_two, task_four" in checked.stdout


def test_the_readme_tells_how_pull_requests_are_reviewed(branch: Path) -> None:
    readme = (branch / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Pull requests\n", 1)[1].split("\n## ", 1)[0]
    for words in ("make pr-diff", "make pr-check", "state:modified+", "<!-- pipeline-diff -->"):
        assert words in section
    template = (branch / ".github" / "pull_request_template.md").read_text(encoding="utf-8")
    assert "## Pipeline impact" in template
