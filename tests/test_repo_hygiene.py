"""The template repository's own upkeep: pinned pre-commit hooks, Dependabot watching both the
template and the generated project, and contributor docs that name real commands."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from manifest import PROJECT_TEMPLATE, TEMPLATE

PRE_COMMIT_CONFIGS = {
    "template": TEMPLATE / ".pre-commit-config.yaml",
    "project": PROJECT_TEMPLATE / ".pre-commit-config.yaml",
}
RELEASE = re.compile(r"^v?\d+(\.\d+)+$|^[0-9a-f]{40}$")
# pre-commit mirror repositories whose tag is the tool's version, and the tool's name.
TOOL_REPOS = {
    "https://github.com/psf/black-pre-commit-mirror": "black",
    "https://github.com/PyCQA/isort": "isort",
}
SLUG_DIR = f"/{PROJECT_TEMPLATE.name}"
# Where each Dependabot ecosystem finds what it updates.
ECOSYSTEM_FILES = {
    "pip": ("pyproject.toml", "requirements.txt"),
    "github-actions": (".github/workflows",),
    "pre-commit": (".pre-commit-config.yaml",),
    "docker-compose": ("docker-compose.yml", "compose.yaml"),
    "docker": ("Dockerfile",),
}
JINJA = re.compile(r"\{\{|\{%")
# Not Jinja: the project template's folder name, and GitHub's expressions.
LITERAL_BRACES = (PROJECT_TEMPLATE.name, "${{")


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def dependabot_updates() -> list[dict]:
    return load_yaml(TEMPLATE / ".github" / "dependabot.yml")["updates"]


def test_the_template_repos_pre_commit_config_is_valid() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "validate-config",
            str(PRE_COMMIT_CONFIGS["template"]),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("config", PRE_COMMIT_CONFIGS.values(), ids=list(PRE_COMMIT_CONFIGS))
def test_every_hook_repository_is_pinned_to_a_release(config: Path) -> None:
    """Local hooks have no revision: each runs a tool from the project's .venv, whose version
    pyproject pins."""
    repos = load_yaml(config)["repos"]
    unpinned = [
        f"{r['repo']}@{r.get('rev')}"
        for r in repos
        if r["repo"] != "local" and not RELEASE.match(str(r.get("rev")))
    ]
    assert unpinned == []
    local = [hook for r in repos if r["repo"] == "local" for hook in r["hooks"]]
    assert [h["id"] for h in local if not h["entry"].startswith(".venv/bin/")] == []


@pytest.mark.parametrize("config", PRE_COMMIT_CONFIGS.values(), ids=list(PRE_COMMIT_CONFIGS))
def test_black_and_isort_hooks_are_the_versions_pyproject_allows(config: Path) -> None:
    pins = {
        TOOL_REPOS[r["repo"]]: r["rev"]
        for r in load_yaml(config)["repos"]
        if r["repo"] in TOOL_REPOS
    }
    assert set(pins) == set(TOOL_REPOS.values())
    allowed = dict(
        re.match(r"([a-z-]+)(.*)", requirement).groups()
        for requirement in tomllib.loads((TEMPLATE / "pyproject.toml").read_text("utf-8"))[
            "dependency-groups"
        ]["test"]
    )
    outside = {
        tool: rev
        for tool, rev in pins.items()
        if rev.lstrip("v") not in SpecifierSet(allowed[tool])
    }
    assert outside == {}


def test_dependabot_watches_the_template_and_the_generated_project() -> None:
    watched = {(u["package-ecosystem"], u["directory"]) for u in dependabot_updates()}
    expected = {("pip", "/"), ("github-actions", "/"), ("pre-commit", "/")}
    expected |= {("github-actions", SLUG_DIR), ("pre-commit", SLUG_DIR)}
    assert expected <= watched


@pytest.mark.parametrize(
    "update", dependabot_updates(), ids=lambda u: f"{u['package-ecosystem']}:{u['directory']}"
)
def test_every_dependabot_entry_points_at_a_jinja_free_file_it_can_read(update: dict) -> None:
    folder = TEMPLATE / update["directory"].lstrip("/")
    found = [folder / name for name in ECOSYSTEM_FILES[update["package-ecosystem"]]]
    found = [path for path in found if path.exists()]
    assert found, f"{folder} has none of {ECOSYSTEM_FILES[update['package-ecosystem']]}"
    files = [
        p for path in found for p in ([path] if path.is_file() else sorted(path.glob("*.yml")))
    ]
    assert [p.name for p in files if has_jinja(p.read_text(encoding="utf-8"))] == []


def has_jinja(text: str) -> bool:
    for literal in LITERAL_BRACES:
        text = text.replace(literal, "")
    return bool(JINJA.search(text))


def make_targets() -> set[str]:
    text = (TEMPLATE / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-zA-Z][\w-]*):", text, re.MULTILINE))


def test_every_make_command_contributing_names_exists() -> None:
    text = (TEMPLATE / "CONTRIBUTING.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", text))
    assert named, "CONTRIBUTING.md names no make command"
    assert sorted(named - make_targets()) == []


def test_contributing_explains_how_to_refresh_the_snapshot() -> None:
    text = (TEMPLATE / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert "make snapshot" in text and "tests/snapshots/default" in text


def test_the_changelog_follows_keep_a_changelog_with_an_unreleased_section() -> None:
    text = (TEMPLATE / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    assert "https://keepachangelog.com/" in text
    unreleased = text.split("## [Unreleased]\n", 1)[1].split("\n## ", 1)[0]
    assert "### Added\n" in unreleased
    assert re.search(r"^- \S", unreleased, re.MULTILINE)
