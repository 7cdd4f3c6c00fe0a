"""`docker stop` cancels a run: the container's commands, started as PID 1 of a new PID namespace
(as a container's first process is), get SIGTERM mid-run and record the run ``cancelled``.

A PID 1 that installs no handler (``sh -c "a && b"``) ignores SIGTERM, so Docker's SIGKILL ten
seconds later would leave the run ``crashed``; these tests fail for such a command.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from engine_support import cli_env, run_rows, write_models

from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]

SLOW = """
import time
from pathlib import Path

from {{ cookiecutter.package_name }}.core.task import Task


@Task()
def slow(run):
    Path("started").write_text(run.run_id)
    deadline = time.monotonic() + 60
    while not run.should_stop() and time.monotonic() < deadline:
        time.sleep(0.05)
    if run.should_stop():
        raise RuntimeError("asked to stop")
"""


def compose_pipeline_command() -> list[str]:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return list(compose["services"]["pipeline"]["command"])


def dockerfile_command() -> list[str]:
    lines = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    cmd = [line for line in lines if line.startswith("CMD ")][-1]
    return json.loads(cmd[len("CMD ") :])  # exec form: a JSON array, no shell in between


def namespaces_allowed() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    done = subprocess.run([unshare, "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    return done.returncode == 0


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or not namespaces_allowed(),
        reason="needs unshare --pid (Linux, root or user namespaces)",
    ),
]


def child_of(pid: int, timeout: float = 10) -> int:
    """The pid (as this namespace sees it) of ``pid``'s only child."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            if children:
                return int(children[0])
        time.sleep(0.05)
    raise AssertionError(f"process {pid} started no child")


def inner_pid(pid: int) -> int:
    """What ``pid`` is called inside its own PID namespace (the last NSpid field)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    raise AssertionError("no NSpid line")


def stop_like_docker(settings: Settings, command: list[str]) -> tuple[int, str]:
    """Start ``command`` as PID 1 of a new PID namespace, SIGTERM it once its task runs, and
    return its exit code and its output."""
    env = cli_env(settings)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    unshare = shutil.which("unshare")
    assert unshare is not None
    process = subprocess.Popen(
        [unshare, "--pid", "--fork", "--mount-proc", *command],
        cwd=settings.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = child_of(process.pid)
        deadline = time.monotonic() + 60
        while not (settings.root / "started").exists():
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.05)
        assert inner_pid(first) == 1
        os.kill(first, signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, output


@pytest.mark.parametrize(
    "command",
    [compose_pipeline_command(), dockerfile_command()],
    ids=["compose-pipeline-command", "dockerfile-cmd"],
)
def test_sigterm_to_the_containers_first_process_cancels_the_run(
    settings: Settings, command: list[str]
) -> None:
    upgrade(settings)  # the Dockerfile's CMD only runs; the compose command migrates first
    write_models(settings.root, SLOW)
    code, output = stop_like_docker(settings, command)
    assert code == 130, output
    assert [row.status for row in run_rows(settings)] == ["cancelled"]
