"""The generated project's repository-health files: SECURITY.md, CONTRIBUTING.md (every `make`
command it names exists), CODEOWNERS, Dependabot for the pre-commit hooks, and the dev container.

No JSON schema of devcontainer.json ships in a Python or npm package we could find (the spec's
schema is only published online), so its required keys and its compose references are checked
here instead: the files it lists exist, and they define the service it opens and starts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import OPTION_SETS, set_id

pytestmark = pytest.mark.parametrize("answers", OPTION_SETS, ids=[set_id(a) for a in OPTION_SETS])
DEVCONTAINER_REQUIRED = ("dockerComposeFile", "service", "workspaceFolder", "postCreateCommand")
CODEOWNERS_LINE = re.compile(r"^(\S+)(\s+@[\w-]+(/[\w-]+)?)+$")


def recorded_answers(root: Path) -> dict[str, Any]:
    return json.loads((root / ".cookiecutter.json").read_text(encoding="utf-8"))["default_context"]


def make_targets(root: Path) -> set[str]:
    text = (root / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-zA-Z][\w-]*):", text, re.MULTILINE))


def test_contributing_names_only_make_commands_that_exist(baked, answers) -> None:
    root = baked(answers)
    text = (root / "CONTRIBUTING.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", text))
    assert {"install", "test", "lint", "migrate"} <= named
    assert sorted(named - make_targets(root)) == []
    assert "alembic revision --autogenerate" in text


def test_security_says_where_to_report_privately(baked, answers) -> None:
    root = baked(answers)
    given = recorded_answers(root)
    text = (root / "SECURITY.md").read_text(encoding="utf-8")
    assert given["author_email"] in text
    advisories = f"github.com/{given['github_owner']}/{given['project_slug']}/security/advisories"
    assert (advisories in text) == answers["include_github_actions"]


def test_codeowners_names_the_github_owner_on_every_line(baked, answers) -> None:
    root = baked(answers)
    path = root / ".github" / "CODEOWNERS"
    if not answers["include_github_actions"]:
        assert not path.exists()
        return
    owner = f"@{recorded_answers(root)['github_owner']}"
    rules = [
        line for line in path.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"
    ]
    assert rules[0].split() == ["*", owner]
    assert [rule for rule in rules if not CODEOWNERS_LINE.match(rule)] == []


def test_dependabot_updates_the_pre_commit_hooks(baked, answers) -> None:
    root = baked(answers)
    if not answers["include_github_actions"]:
        assert not (root / ".github").exists()
        return
    config = yaml.safe_load((root / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    watched = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert ("pre-commit", "/") in watched
    assert (root / ".pre-commit-config.yaml").is_file()


def compose_services(root: Path, files: list[str]) -> dict[str, dict[str, Any]]:
    """The services of these compose files merged, as `docker compose -f a -f b` merges them."""
    services: dict[str, dict[str, Any]] = {}
    for name in files:
        path = root / ".devcontainer" / name
        assert path.is_file(), f"devcontainer.json lists {name}, which does not exist"
        for service, block in yaml.safe_load(path.read_text(encoding="utf-8"))["services"].items():
            services.setdefault(service, {}).update(block)
    return services


def test_the_dev_container_opens_a_service_of_its_compose_files(baked, answers) -> None:
    root = baked(answers)
    config = json.loads((root / ".devcontainer" / "devcontainer.json").read_text("utf-8"))
    assert [key for key in DEVCONTAINER_REQUIRED if not config.get(key)] == []
    assert config["postCreateCommand"] == "make install"
    files = config["dockerComposeFile"]
    services = compose_services(root, [files] if isinstance(files, str) else files)
    assert config["service"] in services
    assert set(config["runServices"]) <= set(services)
    assert ("db" in config["runServices"]) == (answers["database"] != "sqlite")
    dev = services[config["service"]]
    # Compose resolves paths against the first file's folder, the project root: "." is the
    # project, and it is mounted where the editor opens it.
    assert f".:{config['workspaceFolder']}:cached" in dev["volumes"]
    assert dev["image"].endswith(f":{answers['python_version']}-bookworm")
