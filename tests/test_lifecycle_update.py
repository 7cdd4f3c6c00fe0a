"""The update path: a project baked from the previous template version, changed by its user,
is brought up to the new version with ``cruft update`` without conflicts and still passes its tests.

The previous release (tagged v0.1.0) is the template as it is now; the newest commit adds a
question, a Makefile target, a README section, a new rendered file and a settings.yml comment.
Projects are baked both ways users do it: plain cookiecutter (the post-generation hook writes
``.cruft.json``) and ``cruft create``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lifecycle import commit_all, copy_template, git, run_in_project

pytestmark = pytest.mark.slow

PROJECT = "my-pipeline"
PREVIOUS_RELEASE = "v0.1.0"
CONFLICT_MARKER = re.compile(r"^(<{7}|>{7})( |$)|^={7}$", re.MULTILINE)

# The template release: a new question, a Makefile target, a README section, a new rendered
# file and a new comment at the top of settings.yml.
NEW_QUESTION = ("support_channel", "#data-pipelines")
MAKEFILE_TARGET = """
outdated: install ## List the packages in .venv that have newer releases
\t$(BIN)/python -m pip list --outdated
"""
README_SECTION = """
## Getting help

Open an issue with the output of `make help` and the failing command.
"""
NEW_FILE = "docs/runbook.md"
NEW_FILE_TEXT = (
    "# {{ cookiecutter.project_name }} runbook\n\n"
    "Restart a failed run with `make run`; ask in {{ cookiecutter.support_channel }}.\n"
)
SETTINGS_HEADER = "# Every key is described in README.md, section Settings.\n"

# The user's own work, committed before the update.
USER_TASK = """

@Task(depends_on=[load_predictions], tags=["marts"])
def home_wins(session):
    df = session.table("predictions")
    return df.where(df.preds == "hw")
"""
USER_WORKERS = "  workers: 7\n"
USER_TASK_SETTINGS = "  home_wins:\n    materialize: table\n"
USER_TOUCHED = {"models/predictions.py", "settings.yml"}
# Everything `cruft update` may change: what the template release changed (the new question's
# default lands in .cookiecutter.json), plus cruft's state file.
CHANGED_BY_UPDATE = {"Makefile", "README.md", NEW_FILE, "settings.yml", ".cookiecutter.json"}
CHANGED_BY_UPDATE |= {".cruft.json"}


@dataclass(frozen=True)
class History:
    """A template repository with two commits: the release baked (a tag), and the newest one."""

    url: str
    previous: str
    new: str


@dataclass(frozen=True)
class Updated:
    """A project after bake, user change and ``cruft update``; with what cruft said on the way."""

    root: Path
    diff_after_bake: subprocess.CompletedProcess[str]
    check_before: subprocess.CompletedProcess[str]
    update: subprocess.CompletedProcess[str]


def release_new_version(template: Path) -> None:
    """The changes of the "new" template version."""
    add_question(template / "cookiecutter.json", *NEW_QUESTION)
    project_template = template / "{{cookiecutter.project_slug}}"
    with open(project_template / "Makefile", "a", encoding="utf-8") as makefile:
        makefile.write(MAKEFILE_TARGET)
    with open(project_template / "README.md", "a", encoding="utf-8") as readme:
        readme.write(README_SECTION)
    (project_template / NEW_FILE).parent.mkdir(parents=True, exist_ok=True)
    (project_template / NEW_FILE).write_text(NEW_FILE_TEXT, encoding="utf-8")
    settings = project_template / "settings.yml"
    settings.write_text(SETTINGS_HEADER + settings.read_text(encoding="utf-8"), encoding="utf-8")


def add_question(path: Path, name: str, default: str) -> None:
    """A new question, placed after the others (before cookiecutter's private keys)."""
    questions = list(json.loads(path.read_text(encoding="utf-8")).items())
    first_private = next(i for i, (key, _) in enumerate(questions) if key.startswith("_"))
    questions.insert(first_private, (name, default))
    path.write_text(json.dumps(dict(questions), indent=2, ensure_ascii=False) + "\n")


def make_user_change(project: Path) -> None:
    """What a user does after baking: a new task in a model, and its settings."""
    with open(project / "models" / "predictions.py", "a", encoding="utf-8") as model:
        model.write(USER_TASK)
    settings = project / "settings.yml"
    text = settings.read_text(encoding="utf-8")
    text, workers = re.subn(r"^  workers: \d+\n", USER_WORKERS, text, flags=re.MULTILINE)
    text, tasks = re.subn(r"^tasks:( \{\})?\n", f"tasks:\n{USER_TASK_SETTINGS}", text, flags=re.M)
    assert (workers, tasks) == (1, 1), "settings.yml has no single executor.workers or tasks"
    settings.write_text(text, encoding="utf-8")


def tool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m <tool> ...`` (cookiecutter, cruft), as a user would run it."""
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True)


def bake_previous(baker: str, history: History, workdir: Path) -> Path:
    """Bake the previous template version from its git URL, with cookiecutter or cruft."""
    out = workdir / "out"
    if baker == "cruft":
        args = ["cruft", "create", history.url, "--checkout", history.previous]
        args += ["--no-input", "--default-config"]
    else:
        # A config file of its own keeps cookiecutter's clone out of the user's home folder.
        config = workdir / "cookiecutter.yaml"
        config.write_text(
            f"cookiecutters_dir: {json.dumps(str(workdir / 'clones'))}\n"
            f"replay_dir: {json.dumps(str(workdir / 'replay'))}\n",
            encoding="utf-8",
        )
        args = ["cookiecutter", "--config-file", str(config), "git+" + history.url]
        args += ["--checkout", history.previous, "--no-input"]
    done = tool(*args, "--output-dir", str(out), cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    return out / PROJECT


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    repo = copy_template(tmp_path_factory.mktemp("history") / "template")
    commit_all(repo, "Previous version")
    git(repo, "tag", PREVIOUS_RELEASE)
    release_new_version(repo)
    new = commit_all(repo, "New version")
    return History(url=repo.as_uri(), previous=PREVIOUS_RELEASE, new=new)


@pytest.fixture(scope="module", params=["cookiecutter", "cruft"], ids=lambda b: f"baked-by-{b}")
def updated(request, history: History, tmp_path_factory: pytest.TempPathFactory) -> Updated:
    project = bake_previous(request.param, history, tmp_path_factory.mktemp(request.param))
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Bake the template")
    diff_after_bake = tool("cruft", "diff", "--exit-code", cwd=project)
    make_user_change(project)
    commit_all(project, "Add the home_wins task")
    check_before = tool("cruft", "check", cwd=project)
    update = tool("cruft", "update", "--skip-apply-ask", cwd=project)
    return Updated(project, diff_after_bake, check_before, update)


def files_of(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)


def test_a_fresh_bake_matches_its_recorded_template_version(updated: Updated) -> None:
    assert updated.diff_after_bake.returncode == 0, updated.diff_after_bake.stdout


def test_cruft_check_reports_the_previous_version_as_out_of_date(updated: Updated) -> None:
    assert updated.check_before.returncode == 1
    assert "out of date" in updated.check_before.stdout


def test_cruft_update_succeeds_and_records_the_new_commit(updated, history: History) -> None:
    assert updated.update.returncode == 0, updated.update.stdout + updated.update.stderr
    assert "has been updated" in updated.update.stdout
    state = json.loads((updated.root / ".cruft.json").read_text(encoding="utf-8"))
    assert state["commit"] == history.new


def test_no_rejected_hunks_are_left(updated: Updated) -> None:
    assert [p.name for p in files_of(updated.root) if p.suffix in (".rej", ".orig")] == []


def test_files_the_user_did_not_touch_have_no_conflict_markers(updated: Updated) -> None:
    conflicted = []
    for path in files_of(updated.root):
        relative = path.relative_to(updated.root).as_posix()
        if relative in USER_TOUCHED or path.suffix in (".csv", ".db"):
            continue
        if CONFLICT_MARKER.search(path.read_text(encoding="utf-8")):
            conflicted.append(relative)
    assert conflicted == []


def test_the_update_changes_only_what_the_template_changed(updated: Updated) -> None:
    status = git(updated.root, "status", "--porcelain", "--untracked-files=all")
    changed = {line[3:] for line in status.splitlines()}
    assert changed == CHANGED_BY_UPDATE


def test_the_users_changes_are_kept(updated: Updated) -> None:
    model = (updated.root / "models" / "predictions.py").read_text(encoding="utf-8")
    settings = (updated.root / "settings.yml").read_text(encoding="utf-8")
    assert model.endswith(USER_TASK)
    assert USER_WORKERS in settings
    assert f"tasks:\n{USER_TASK_SETTINGS}" in settings


def test_the_template_changes_are_applied(updated: Updated) -> None:
    root = updated.root
    assert (root / "Makefile").read_text(encoding="utf-8").endswith(MAKEFILE_TARGET)
    assert (root / "README.md").read_text(encoding="utf-8").endswith(README_SECTION)
    runbook = (root / NEW_FILE).read_text(encoding="utf-8")
    assert runbook.startswith("# My Pipeline runbook\n")
    assert f"ask in {NEW_QUESTION[1]}." in runbook
    answers = json.loads((root / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert answers["default_context"][NEW_QUESTION[0]] == NEW_QUESTION[1]
    assert (root / "settings.yml").read_text(encoding="utf-8").startswith(SETTINGS_HEADER)


def test_cruft_check_passes_after_the_update(updated: Updated) -> None:
    done = tool("cruft", "check", cwd=updated.root)
    assert done.returncode == 0, done.stdout


def test_the_projects_fast_tests_still_pass(updated: Updated) -> None:
    done = run_in_project(
        updated.root,
        *("-m", "pytest", "-q", "-p", "no:cacheprovider"),
        *("tests/framework/test_settings.py", "tests/framework/test_migrations.py"),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_the_users_task_is_listed_beside_the_template_ones(updated: Updated) -> None:
    done = run_in_project(updated.root, "-m", "my_pipeline", "list", COLUMNS="200")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "home_wins" in done.stdout
