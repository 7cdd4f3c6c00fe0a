"""The nightly deployments in deploy/ run the pipeline as written: their commands, in their order,
in their working directory and environment, succeed on a copy of the project and write only
where the deployment lets them (systemd's ReadWritePaths, the CronJob's mounted volumes).

No systemd or Kubernetes here: the folder each one runs in (/opt/<project>, the image's /app)
becomes a copy of this project and its Python this environment's; the rest is as written.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SLUG = "{{ cookiecutter.project_slug }}"
SERVICE = PROJECT_ROOT / "deploy" / "systemd" / f"{SLUG}.service"
CRONJOB = PROJECT_ROOT / "deploy" / "kubernetes" / "cronjob.yaml"
# What the copy leaves out: local state and tools, never read by a run.
NOT_COPIED = shutil.ignore_patterns(".venv", ".git", "data", "dags", ".env", "__pycache__", "tests")
# Dockerfile `ENV KEY=value \` lines, the image's environment.
DOCKER_ENV = re.compile(r"\b([A-Z_][A-Z0-9_]*)=(\S+)")


def service_section() -> dict[str, list[str]]:
    """The [Service] section of the unit, each key with all its values in order."""
    parser = configparser.RawConfigParser(strict=False, dict_type=MultiDict)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(SERVICE.read_text(encoding="utf-8"))
    return {key: value.split("\n") for key, value in parser["Service"].items()}


class MultiDict(dict):
    """configparser's store, keeping every value of a key repeated in a section."""

    def __setitem__(self, key: str, value: object) -> None:
        if isinstance(value, list) and key in self:
            self[key].extend(value)
        else:
            super().__setitem__(key, value)


def copy_project(target: Path) -> Path:
    shutil.copytree(PROJECT_ROOT, target, ignore=NOT_COPIED)
    return target


def file_states(root: Path) -> dict[Path, tuple[int, int]]:
    return {
        path: (path.stat().st_mtime_ns, path.stat().st_size)
        for path in root.rglob("*")
        if path.is_file()
    }


def written_outside(root: Path, before: dict[Path, tuple[int, int]], allowed: list[Path]) -> list:
    """Files created or changed under ``root`` but outside every ``allowed`` folder."""
    after = file_states(root)
    changed = [path for path, state in after.items() if before.get(path) != state]
    return sorted(
        str(path.relative_to(root))
        for path in changed
        if not any(path.is_relative_to(folder) for folder in allowed)
    )


def run_in_order(commands: list[list[str]], cwd: Path, env: dict[str, str]) -> None:
    for command in commands:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{shlex.join(command)}:\n{done.stdout}{done.stderr}"


def base_env(home: Path) -> dict[str, str]:
    """A clean environment: no variable of this test run leaks into the deployment's."""
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["HOME"] = str(home)
    # Whatever the project's database, this test runs it on a SQLite file in the writable folder.
    env["DATABASE_URL"] = f"sqlite:///{home / 'data' / 'warehouse.db'}"
    return env


def test_the_systemd_service_runs_and_writes_only_its_read_write_paths(tmp_path: Path) -> None:
    service = service_section()
    workdir = Path(service["WorkingDirectory"][0])
    root = copy_project(tmp_path / workdir.name)
    python = str(workdir / ".venv" / "bin" / "python")

    def here(word: str) -> str:
        return sys.executable if word == python else word.replace(str(workdir), str(root))

    allowed = [Path(here(path.lstrip("-"))) for path in service["ReadWritePaths"][0].split()]
    for folder in allowed:
        folder.mkdir(parents=True, exist_ok=True)
    env = base_env(root)
    for assignment in service["Environment"]:
        env.update(word.split("=", 1) for word in shlex.split(assignment))
    commands = [
        [here(word) for word in shlex.split(service[key][0])]
        for key in ("ExecStartPre", "ExecStart")
    ]
    before = file_states(root)
    run_in_order(commands, root, env)
    assert written_outside(root, before, allowed) == []
    assert (root / "data" / "warehouse.db").is_file()


def cronjob_pod() -> dict:
    documents = list(yaml.safe_load_all(CRONJOB.read_text(encoding="utf-8")))
    cronjob = next(doc for doc in documents if doc["kind"] == "CronJob")
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def image_env() -> dict[str, str]:
    text = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    block = re.search(r"^ENV ((?:.*\\\n)*.*)$", text, re.MULTILINE)
    assert block, "the Dockerfile sets no ENV"
    return dict(DOCKER_ENV.findall(block.group(1)))


def test_the_cronjob_migrates_then_runs_and_writes_only_its_volumes(tmp_path: Path) -> None:
    pod = cronjob_pod()
    containers = pod["initContainers"] + pod["containers"]
    workdir = Path("/app")  # the Dockerfile's WORKDIR
    root = copy_project(tmp_path / "app")
    mounts = {m["mountPath"] for c in containers for m in c.get("volumeMounts", [])}
    allowed = [
        root / Path(m).relative_to(workdir) for m in mounts if Path(m).is_relative_to(workdir)
    ]
    for folder in allowed:
        folder.mkdir(parents=True, exist_ok=True)
    env = {**base_env(root), **image_env()}
    env.update({item["name"]: item["value"] for item in containers[-1].get("env", [])})
    commands = [
        [sys.executable if word == "python" else word for word in container["command"]]
        for container in containers
    ]
    before = file_states(root)
    run_in_order(commands, root, env)
    assert written_outside(root, before, allowed) == []
    assert (root / "data" / "warehouse.db").is_file()


def test_the_readme_shows_each_way_to_run_every_night_with_files_that_exist() -> None:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Running every night\n", 1)[1].split("\n## ", 1)[0]
    assert "kubectl apply -f deploy/kubernetes/" in section
    assert f"systemctl enable --now {SLUG}.timer" in section
    for path in re.findall(r"deploy/[\w./-]+", section):
        assert (PROJECT_ROOT / path).exists(), path
