"""Every project knows where it came from: cruft accepts the ``.cruft.json`` the hook writes, the
generated CI reports drift from the template without blocking, and the README says how to update.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import OPTION_SETS
from lifecycle import commit_all, copy_template

DEFAULTS = OPTION_SETS[0]


@pytest.fixture(scope="module")
def baked_from_checkout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The defaults baked with `cookiecutter .` inside a template checkout, as contributors do."""
    template = copy_template(tmp_path_factory.mktemp("checkout") / "cookiecutter-data-pipeline")
    commit = commit_all(template, "Template")
    out = tmp_path_factory.mktemp("out")
    done = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--default-config"]
        + ["--output-dir", str(out), "."],
        cwd=template,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out / DEFAULTS["project_slug"], template, commit


def cruft(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cruft", *args], cwd=cwd, capture_output=True, text=True
    )


def test_cruft_json_names_the_checkout_and_its_commit(baked_from_checkout) -> None:
    project, template, commit = baked_from_checkout
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert (state["template"], state["commit"]) == (str(template), commit)
    assert state["context"]["cookiecutter"]["_commit"] == commit


def test_cruft_check_finds_a_fresh_bake_up_to_date(baked_from_checkout) -> None:
    done = cruft("check", cwd=baked_from_checkout[0])
    assert done.returncode == 0, done.stdout + done.stderr


def test_cruft_diff_finds_nothing_in_a_fresh_bake(baked_from_checkout) -> None:
    done = cruft("diff", "--exit-code", cwd=baked_from_checkout[0])
    assert done.returncode == 0, done.stdout + done.stderr


def test_cruft_diff_prints_the_users_change_as_a_clean_patch(baked_from_checkout, tmp_path) -> None:
    project = Path(shutil.copytree(baked_from_checkout[0], tmp_path / "project"))
    with open(project / "Makefile", "a", encoding="utf-8") as makefile:
        makefile.write("\nhello: ## Say hello\n\t@echo hello\n")
    done = cruft("diff", cwd=project)
    assert done.stdout.startswith("diff --git "), done.stdout[:500]
    # The patch goes from the project to the template: the user's own lines show as removed.
    assert "-hello: ## Say hello\n" in done.stdout


def test_the_generated_ci_reports_template_drift_without_blocking(baked) -> None:
    workflow = yaml.safe_load(
        (baked(DEFAULTS) / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    )
    checking = [
        job
        for job in workflow["jobs"].values()
        if any("cruft check" in step.get("run", "") for step in job["steps"])
    ]
    assert len(checking) == 1
    assert checking[0].get("continue-on-error") is True


def test_the_generated_readme_explains_how_to_update(baked) -> None:
    readme = (baked(DEFAULTS) / "README.md").read_text(encoding="utf-8")
    sections = [section for section in readme.split("\n## ")[1:] if "cruft update" in section]
    assert len(sections) == 1, "no single README section says how to update"
    assert "cruft check" in sections[0] and "cruft diff" in sections[0]
