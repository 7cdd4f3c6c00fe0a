"""Output that survives Windows: LF endings pinned by .gitattributes (so a checkout with
core.autocrlf cannot turn `make` and shell scripts into "$'\\r': command not found"), file names
Windows can create, and a CLI that runs from a folder with spaces in its path."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import OPTION_SETS, bake, set_id
from lifecycle import git, run_in_project
from manifest import TEMPLATE

DEFAULTS = OPTION_SETS[0]
PACKAGE = DEFAULTS["package_name"]
INVALID_CHARS = re.compile(r'[<>:"|?*\\\x00-\x1f]')
RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in range(1, 10)}
# Windows' classic MAX_PATH is 260: leave room for a project folder ~100 characters deep.
MAX_RELATIVE_PATH = 150
LF_SUFFIXES = {".py", ".sh", ".yml", ".yaml", ".toml", ".ini", ".sql", ".cfg", ".mako"}
LF_NAMES = {"Makefile", "Dockerfile"}
TASKS = ("load_predictions", "task_one", "task_two", "task_three", "task_four")

for_every_option_set = pytest.mark.parametrize(
    "answers", OPTION_SETS, ids=[set_id(answers) for answers in OPTION_SETS]
)


def files_of(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    )


def must_be_lf(root: Path, relative: str) -> bool:
    """Shell scripts (by suffix or shebang), Makefiles, Dockerfiles, Python, YAML and config."""
    path = root / relative
    if path.suffix in LF_SUFFIXES or path.name in LF_NAMES:
        return True
    with open(path, "rb") as handle:
        return handle.read(2) == b"#!"


def windows_problems(relative: str) -> list[str]:
    """Why Windows cannot create this path, if it cannot."""
    problems = []
    if len(relative) > MAX_RELATIVE_PATH:
        problems.append(f"{relative}: longer than {MAX_RELATIVE_PATH} characters")
    for part in relative.split("/"):
        if INVALID_CHARS.search(part):
            problems.append(f"{relative}: {part!r} has a character Windows forbids")
        if part.endswith((".", " ")):
            problems.append(f"{relative}: {part!r} ends with a dot or a space")
        if part.split(".")[0].upper() in RESERVED:
            problems.append(f"{relative}: {part!r} is a reserved device name")
    return problems


def case_clashes(paths: list[str]) -> list[str]:
    """Paths that differ only in case, which Windows and macOS cannot hold side by side."""
    seen: dict[str, str] = {}
    clashes = []
    for path in paths:
        other = seen.setdefault(path.lower(), path)
        if other != path:
            clashes.append(f"{other} and {path}")
    return clashes


def eol_attributes(repo: Path, paths: list[str]) -> dict[str, str]:
    """The ``eol`` git attribute each path gets from the .gitattributes files in ``repo``."""
    done = subprocess.run(
        ["git", "check-attr", "eol", "--stdin", "-z"],
        cwd=repo,
        input="\0".join(paths),
        capture_output=True,
        text=True,
        check=True,
    )
    fields = done.stdout.split("\0")
    return {fields[i]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}


@pytest.fixture(scope="module")
def spaced_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The defaults baked under a folder whose path has spaces, as on many Windows desktops."""
    return bake(tmp_path_factory.mktemp("spaces") / "My Projects" / "data work", **DEFAULTS)


def test_the_template_pins_lf_endings_for_scripts_makefiles_python_and_yaml() -> None:
    inside = subprocess.run(["git", "rev-parse"], cwd=TEMPLATE, capture_output=True)
    if inside.returncode != 0:
        pytest.skip("the template is not a git checkout here")
    tracked = git(TEMPLATE, "ls-files").splitlines()
    needed = [path for path in tracked if (TEMPLATE / path).is_file()]
    needed = [path for path in needed if must_be_lf(TEMPLATE, path)]
    assert needed, "git lists no script, Makefile, Python or YAML file in the template"
    attributes = eol_attributes(TEMPLATE, needed)
    assert {path: eol for path, eol in attributes.items() if eol != "lf"} == {}


@for_every_option_set
def test_the_project_pins_lf_endings_for_scripts_makefiles_python_and_yaml(
    baked, answers, tmp_path: Path
) -> None:
    root = baked(answers)
    repo = tmp_path / "checkout"
    repo.mkdir()
    (repo / ".gitattributes").write_bytes((root / ".gitattributes").read_bytes())
    git(repo, "init", "--quiet")
    needed = [path for path in files_of(root) if must_be_lf(root, path)]
    attributes = eol_attributes(repo, needed)
    assert {path: eol for path, eol in attributes.items() if eol != "lf"} == {}


@for_every_option_set
def test_scripts_makefiles_python_and_yaml_have_lf_endings(baked, answers) -> None:
    root = baked(answers)
    with_cr = [path for path in files_of(root) if must_be_lf(root, path)]
    with_cr = [path for path in with_cr if b"\r" in (root / path).read_bytes()]
    assert with_cr == []


@for_every_option_set
def test_every_generated_path_is_valid_on_windows(baked, answers) -> None:
    paths = files_of(baked(answers))
    assert [problem for path in paths for problem in windows_problems(path)] == []
    assert case_clashes(paths) == []


def test_every_template_path_is_valid_on_windows() -> None:
    paths = [p.relative_to(TEMPLATE).as_posix() for p in TEMPLATE.rglob("*") if p.is_file()]
    paths = [p for p in paths if not p.startswith((".git/", ".venv/", "build/"))]
    assert [problem for path in paths for problem in windows_problems(path)] == []
    assert case_clashes(paths) == []


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("docs/a:b.md", "a character Windows forbids"),
        ("notes./x.md", "ends with a dot or a space"),
        ("x/aux.py", "reserved device name"),
        ("COM1", "reserved device name"),
        ("what?.txt", "a character Windows forbids"),
        ("a/" * 80 + "b.py", "longer than 150 characters"),
    ],
)
def test_the_name_check_catches_what_windows_refuses(path: str, problem: str) -> None:
    assert problem in " ".join(windows_problems(path))


def test_the_cli_help_works_from_a_path_with_spaces(spaced_project: Path) -> None:
    assert " " in str(spaced_project)
    done = run_in_project(spaced_project, "-m", PACKAGE, "--help", COLUMNS="200")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "list" in done.stdout and "run" in done.stdout


def test_the_cli_lists_the_tasks_from_a_path_with_spaces(spaced_project: Path) -> None:
    done = run_in_project(spaced_project, "-m", PACKAGE, "list", COLUMNS="200")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [task for task in TASKS if task not in done.stdout] == []


@pytest.mark.slow
def test_the_example_pipeline_migrates_and_runs_from_a_path_with_spaces(
    spaced_project: Path,
) -> None:
    migrated = run_in_project(spaced_project, "-m", PACKAGE, "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    ran = run_in_project(spaced_project, "-m", PACKAGE, "run")
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    assert (spaced_project / "data" / "warehouse.db").is_file()
