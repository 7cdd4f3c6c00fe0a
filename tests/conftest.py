"""Baking helpers: the option sets under test, and each set baked once per session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

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
    """The defaults, then a pairwise cover of all options; names alternate between NAMES."""
    rows = [defaults()] + [row for row in pairwise(option_values()) if row != defaults()]
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
