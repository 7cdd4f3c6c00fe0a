"""Every option set bakes into exactly the expected, parseable, lint-clean, reproducible tree."""

from __future__ import annotations

import configparser
import filecmp
import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import COOKIECUTTER_JSON, OPTION_SETS, bake, set_id
from manifest import expected_files, required_files

JINJA = re.compile(r"\{\{|\{%|\{#")
# Files copied without rendering are Python or GitHub YAML, where "{{" can be legitimate
# (f-strings, ${{ }}); there, only Jinja that names cookiecutter is a leftover.
LEFTOVER_IN_COPIED = re.compile(r"\{\{-?\s*cookiecutter\b|\{%-?\s*(if|for|raw|set|endif|endfor)\b")
INI_FILES = ("alembic.ini",)
TEXT_SUFFIXES = {".py", ".sh", ".yml", ".yaml", ".toml", ".json", ".ini", ".md", ".sql", ".txt"}
TEXT_NAMES = {"Makefile", "Dockerfile", "LICENSE", ".gitignore", ".gitattributes", ".dockerignore"}
TEXT_NAMES |= {".env.example", ".python-version"}

pytestmark = pytest.mark.parametrize("answers", OPTION_SETS, ids=[set_id(a) for a in OPTION_SETS])


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def text_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and (p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES)
    )


def test_bakes_into_the_expected_folder_and_package(baked, answers) -> None:
    root = baked(answers)
    assert root.name == answers["project_slug"]
    assert (root / "src" / answers["package_name"] / "__init__.py").is_file()


def test_holds_exactly_the_expected_files(baked, answers) -> None:
    found = files_of(baked(answers))
    expected = expected_files(answers)
    assert required_files(answers) <= expected
    assert sorted(found - expected) == [], "files the manifest does not expect"
    assert sorted(expected - found) == [], "files the manifest expects but the bake lacks"


def copied_without_render(relative: str) -> bool:
    patterns = COOKIECUTTER_JSON["_copy_without_render"]
    return any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)


def test_leaves_no_jinja_behind(baked, answers) -> None:
    root = baked(answers)
    leftovers = []
    for path in text_files(root):
        relative = path.relative_to(root).as_posix()
        pattern = LEFTOVER_IN_COPIED if copied_without_render(relative) else JINJA
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                leftovers.append(f"{relative}:{n}: {line.strip()}")
    assert leftovers == []


def test_every_yaml_toml_json_and_ini_file_parses(baked, answers) -> None:
    root = baked(answers)
    for path in text_files(root):
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yml", ".yaml"):
            list(yaml.safe_load_all(text))  # Kubernetes manifests may hold several documents
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix == ".ini" or path.name in INI_FILES:
            configparser.ConfigParser(interpolation=None).read_string(text)


def test_text_files_pass_the_pre_commit_hygiene_hooks(baked, answers) -> None:
    """What trailing-whitespace, end-of-file-fixer and mixed-line-ending would change."""
    root = baked(answers)
    problems = []
    for path in text_files(root):
        data = path.read_bytes()
        name = path.relative_to(root)
        if b"\r" in data:
            problems.append(f"{name}: CR line ending")
        if data and not data.endswith(b"\n"):
            problems.append(f"{name}: no final newline")
        if data.endswith(b"\n\n"):
            problems.append(f"{name}: blank lines at the end")
        if re.search(rb"[ \t]+\n", data):
            problems.append(f"{name}: trailing whitespace")
    assert problems == []


def test_github_workflows_keep_their_expressions(baked, answers) -> None:
    workflow = baked(answers) / ".github" / "workflows" / "ci.yml"
    if not answers["include_github_actions"]:
        assert not workflow.exists()
        return
    text = workflow.read_text(encoding="utf-8")
    assert "${{ github.workflow }}-${{ github.ref }}" in text


def test_black_finds_nothing_to_change(baked, answers) -> None:
    root = baked(answers)
    done = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--quiet", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_isort_finds_nothing_to_change(baked, answers) -> None:
    root = baked(answers)
    done = subprocess.run(
        [sys.executable, "-m", "isort", "--check-only", "--diff", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_baking_again_gives_a_byte_identical_tree(answers, tmp_path: Path) -> None:
    first = bake(tmp_path / "first", **answers)
    second = bake(tmp_path / "second", **answers)
    assert files_of(first) == files_of(second)
    _, mismatch, errors = filecmp.cmpfiles(first, second, sorted(files_of(first)), shallow=False)
    assert (mismatch, errors) == ([], [])
