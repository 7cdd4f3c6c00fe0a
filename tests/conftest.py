"""Baking helpers: the option sets under test, and each set baked once per session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase
from xdist.scheduler import LoadScopeScheduling

from manifest import TEMPLATE
from pairwise import pairwise

# Hypothesis keeps its examples under build/, with the other local state.
settings.register_profile(
    "template", database=DirectoryBasedExampleDatabase(str(TEMPLATE / "build" / ".hypothesis"))
)
settings.load_profile("template")

COOKIECUTTER_JSON = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
# Project names and the folder/package names they must give (declared, not computed).
NAMES = [
    ("My Pipeline", "my-pipeline", "my_pipeline"),
    ("Acme Sales Ops 2", "acme-sales-ops-2", "acme_sales_ops_2"),
]


def option_values() -> list[tuple[str, list[Any]]]:
    """Every choice list and yes/no option of cookiecutter.json, default value first."""
    options = []
    for key, value in COOKIECUTTER_JSON.items():
        if key.startswith("_"):
            continue
        if isinstance(value, list):
            options.append((key, list(value)))
        elif isinstance(value, bool):
            options.append((key, [value, not value]))
    return options


def defaults() -> dict[str, Any]:
    return {name: values[0] for name, values in option_values()}


def option_sets() -> list[dict[str, Any]]:
    """The defaults, then a pairwise cover of all options; names alternate between NAMES.

    The first set of each database comes right after the defaults: those run their whole suite,
    the longest units of a CI run, so they start first."""
    rows = [defaults()] + [row for row in pairwise(option_values()) if row != defaults()]
    firsts: dict[str, int] = {}
    for i, row in enumerate(rows):
        firsts.setdefault(row["database"], i)
    order = sorted(range(len(rows)), key=lambda i: i not in firsts.values())
    rows = [rows[i] for i in order]
    sets = []
    for i, row in enumerate(rows):
        name, slug, package = NAMES[i % len(NAMES)]
        sets.append({**row, "project_name": name, "project_slug": slug, "package_name": package})
    return sets


def set_id(answers: dict[str, Any]) -> str:
    flags = [
        answers["database"],
        "py" + answers["python_version"],
        answers["license"],
        "dash" if answers["include_dashboard"] else "nodash",
        "gha" if answers["include_github_actions"] else "nogha",
        answers["project_slug"],
    ]
    return "-".join(flags)


OPTION_SETS = option_sets()
DEFAULT_ID = set_id(OPTION_SETS[0])
BAKE_IDS = [set_id(answers) for answers in OPTION_SETS]
GENERATED_PROJECT_TESTS = "test_generated_project.py"


def bake(output_dir: Path, **answers: Any) -> Path:
    """Bake the template with these answers (no prompts, no user config); the project folder."""
    extra = {k: v for k, v in answers.items() if k not in ("project_slug", "package_name")}
    output_dir.mkdir(parents=True, exist_ok=True)
    return Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context=extra,
            output_dir=str(output_dir),
            default_config=True,
        )
    )


@pytest.fixture(scope="session")
def baked(tmp_path_factory: pytest.TempPathFactory):
    """``baked(answers)`` bakes each option set once per session and returns its folder."""
    cache: dict[str, Path] = {}

    def get(answers: dict[str, Any]) -> Path:
        key = set_id(answers)
        if key not in cache:
            cache[key] = bake(tmp_path_factory.mktemp(key), **answers)
        return cache[key]

    return get


class BakeScheduling(LoadScopeScheduling):
    """``--dist loadscope`` here: each xdist worker takes whole files (their module fixtures are
    built once), except test_generated_project.py, whose tests go in one unit per bake (the
    bake's venv is built once, on the worker that runs its suite). Units start in collection
    order with ``--no-loadscope-reorder``."""

    def _split_scope(self, nodeid: str) -> str:
        path, _, name = nodeid.partition("::")
        if path.endswith(GENERATED_PROJECT_TESTS):
            params = name.partition("[")[2].rstrip("]")
            return next(bake for bake in BAKE_IDS if params.endswith(bake))
        return path


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    return BakeScheduling(config, log) if config.getvalue("dist") == "loadscope" else None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The counts of each generated project's own suite run in this session, and the time its
    lint took, one line a bake."""
    reports = terminalreporter.getreports("passed") + terminalreporter.getreports("failed")
    for prop, title in (("suite", "own suites"), ("lint", "lint times")):
        lines = sorted(
            value
            for report in reports
            if report.when == "call"
            for name, value in report.user_properties
            if name == prop
        )
        if lines:
            terminalreporter.write_sep("-", f"generated projects' {title}")
            for line in lines:
                terminalreporter.write_line(line)
