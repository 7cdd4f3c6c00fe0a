"""Generated config files validate against their vendors' schemas (all bakes in one call each)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import OPTION_SETS
from manifest import TEMPLATE

SCHEMAS = {
    "vendor.github-workflows": ".github/workflows/*.yml",
    "vendor.github-issue-forms": ".github/ISSUE_TEMPLATE/[!c]*.yml",
    "vendor.dependabot": ".github/dependabot.yml",
    # The project's, and the dev container's addition to it.
    "vendor.compose-spec": "**/docker-compose.yml",
}


def baked_files(baked, pattern: str) -> list[str]:
    return sorted(str(p) for answers in OPTION_SETS for p in baked(answers).glob(pattern))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)


@pytest.mark.parametrize(("schema", "pattern"), SCHEMAS.items(), ids=list(SCHEMAS))
def test_generated_files_match_their_schema(baked, schema: str, pattern: str) -> None:
    files = baked_files(baked, pattern)
    assert files, f"no bake produced {pattern}"
    done = run("check_jsonschema", "--builtin-schema", schema, *files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_pre_commit_config_is_valid(baked) -> None:
    files = baked_files(baked, ".pre-commit-config.yaml")
    assert len(files) == len(OPTION_SETS)
    done = run("pre_commit", "validate-config", *files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_template_repos_own_workflow_and_dependabot_are_valid() -> None:
    workflows = run(
        "check_jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        str(TEMPLATE / ".github" / "workflows" / "ci.yml"),
    )
    dependabot = run(
        "check_jsonschema",
        "--builtin-schema",
        "vendor.dependabot",
        str(TEMPLATE / ".github" / "dependabot.yml"),
    )
    assert workflows.returncode == 0, workflows.stdout
    assert dependabot.returncode == 0, dependabot.stdout


def test_the_template_repos_compose_file_is_valid() -> None:
    done = run(
        "check_jsonschema",
        "--builtin-schema",
        "vendor.compose-spec",
        str(Path(TEMPLATE / "docker-compose.yml")),
    )
    assert done.returncode == 0, done.stdout
