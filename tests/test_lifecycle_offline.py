"""Baking needs no network: behind a proxy that answers nothing, inside a network namespace with
no interfaces, and with every Python process of the bake (hooks included) audited for sockets.
Nor does installing a bake's lock, given a wheelhouse of the files it pins (``wheels.py``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from conftest import OPTION_SETS, set_id
from lockfile import for_environment
from manifest import TEMPLATE
from wheels import fill_wheelhouse

DEFAULTS = OPTION_SETS[0]
# Port 9 (discard) on loopback: nothing listens, every connection is refused at once.
NOWHERE = "http://127.0.0.1:9"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "FTP_PROXY")
# Audit events (PEP 578) that mean a name lookup or a connection.
NETWORK_EVENTS = (
    "socket.connect",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "socket.sendto",
    "urllib.Request",
    "http.client.connect",
)
# git subcommands that only read or write the local repository.
LOCAL_GIT = {"rev-parse", "init", "add", "commit", "config", "status", "describe", "log"}
SITECUSTOMIZE = """
import json, os, sys

_LOG = os.environ["BAKE_AUDIT_LOG"]
_EVENTS = set(json.loads(os.environ["BAKE_AUDIT_EVENTS"]))


def _audit(event, args):
    if event not in _EVENTS:
        return
    if event == "subprocess.Popen":  # (executable, args, cwd, env): keep the command line
        command = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
        details = [os.fspath(p) if isinstance(p, os.PathLike) else str(p) for p in command]
    else:
        details = [str(arg) for arg in args[:2]]
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps([event, details]) + "\\n")


sys.addaudithook(_audit)
"""


def bake_command(output_dir: Path, answers: dict[str, Any]) -> list[str]:
    """The command line a user types to bake these answers without prompts."""
    derived = ("project_slug", "package_name")
    pairs = [f"{key}={value}" for key, value in answers.items() if key not in derived]
    return [sys.executable, "-m", "cookiecutter", "--no-input", "--default-config"] + [
        "--output-dir",
        str(output_dir),
        str(TEMPLATE),
        *pairs,
    ]


def offline_env(**extra: str) -> dict[str, str]:
    """This environment with every proxy pointing nowhere and pip/git kept off the network."""
    env = {key: value for key, value in os.environ.items() if key.lower() != "no_proxy"}
    for name in PROXY_VARIABLES:
        env[name] = env[name.lower()] = NOWHERE
    env.update(PIP_NO_INDEX="1", GIT_TERMINAL_PROMPT="0", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=offline_env(**env), capture_output=True, text=True)


def template_commit() -> str | None:
    done = subprocess.run(
        ["git", "-C", str(TEMPLATE), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else None


def namespace_prefix() -> list[str]:
    """``unshare`` arguments that give a new network namespace (root, or user namespaces)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    for prefix in ([unshare, "--net"], [unshare, "--map-root-user", "--net"]):
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    pytest.skip("cannot create a network namespace here: needs root or user namespaces")


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory):
    """``audited(answers)``: bake offline with every Python process audited; the logged events."""
    hook_dir = tmp_path_factory.mktemp("audit")
    (hook_dir / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")

    def bake_and_log(answers: dict[str, Any]) -> list[tuple[str, list[str]]]:
        out = tmp_path_factory.mktemp("audited-bake")
        log = out / "audit.jsonl"
        events = json.dumps([*NETWORK_EVENTS, "subprocess.Popen"])
        pythonpath = os.pathsep.join(filter(None, [str(hook_dir), os.environ.get("PYTHONPATH")]))
        done = run(
            bake_command(out / "project", answers),
            BAKE_AUDIT_LOG=str(log),
            BAKE_AUDIT_EVENTS=events,
            PYTHONPATH=pythonpath,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return [tuple(json.loads(line)) for line in lines]

    return bake_and_log


def test_bakes_with_every_proxy_pointing_at_a_closed_port(tmp_path: Path) -> None:
    done = run(bake_command(tmp_path, DEFAULTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / DEFAULTS["project_slug"] / "pyproject.toml").is_file()


def test_a_network_namespace_has_no_route_out() -> None:
    probe = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=2)"
    done = run([*namespace_prefix(), sys.executable, "-c", probe])
    assert done.returncode != 0
    assert "unreachable" in done.stderr.lower()


def test_bakes_inside_a_network_namespace(tmp_path: Path) -> None:
    done = run([*namespace_prefix(), *bake_command(tmp_path, DEFAULTS)])
    assert done.returncode == 0, done.stdout + done.stderr
    cruft = json.loads((tmp_path / DEFAULTS["project_slug"] / ".cruft.json").read_text())
    assert cruft["commit"] == template_commit()


@pytest.mark.slow
def test_make_install_takes_the_lock_from_a_wheelhouse_inside_a_network_namespace(
    tmp_path: Path,
) -> None:
    """No index, no route out: every pin of requirements-dev.txt comes from the local wheelhouse,
    hash-checked, and the venv holds exactly the lock."""
    prefix = namespace_prefix()
    done = run([*prefix, *bake_command(tmp_path, DEFAULTS)])
    assert done.returncode == 0, done.stdout + done.stderr
    project = tmp_path / DEFAULTS["project_slug"]
    wheelhouse = fill_wheelhouse(project)  # on the network, once per template checkout
    env = {"PIP_FIND_LINKS": str(wheelhouse), "PYTHON": sys.executable}
    done = run([*prefix, "make", "-C", str(project), "install"], **env)
    assert done.returncode == 0, done.stdout + done.stderr
    python = str(project / ".venv" / "bin" / "python")
    freeze = run([python, "-m", "pip", "freeze", "--exclude-editable"])
    pairs = (line.split("==") for line in freeze.stdout.split())
    frozen = {canonicalize_name(name): version for name, version in pairs}
    probe = "import json, packaging.markers as m; print(json.dumps(m.default_environment()))"
    environment = json.loads(run([python, "-c", probe]).stdout)
    assert frozen == for_environment(project / "requirements-dev.txt", environment)


@pytest.mark.parametrize(
    "answers", [OPTION_SETS[0], OPTION_SETS[1]], ids=[set_id(OPTION_SETS[i]) for i in (0, 1)]
)
def test_no_process_of_the_bake_looks_up_a_name_or_connects(audited, answers) -> None:
    assert [event for event in audited(answers) if event[0] != "subprocess.Popen"] == []


@pytest.mark.parametrize(
    "answers", [OPTION_SETS[0], OPTION_SETS[1]], ids=[set_id(OPTION_SETS[i]) for i in (0, 1)]
)
def test_the_hooks_start_only_python_and_local_git(audited, answers) -> None:
    started = [command for event, command in audited(answers) if event == "subprocess.Popen"]
    assert started, "the audit saw no hook start: it is not watching the bake"
    unexpected = [" ".join(command) for command in started if not local_command(command)]
    assert unexpected == []


def local_command(command: list[str]) -> bool:
    """A hook script run by this Python, or git working on the local repository only."""
    if command[0] == sys.executable:
        return len(command) == 2 and command[1].endswith(".py")
    return Path(command[0]).name == "git" and git_subcommand(command[1:]) in LOCAL_GIT


def git_subcommand(args: list[str]) -> str | None:
    """The subcommand of a git command line, past global options like ``-C <dir>``."""
    rest = iter(args)
    for arg in rest:
        if arg in ("-C", "-c", "--git-dir", "--work-tree"):
            next(rest, None)
        elif not arg.startswith("-"):
            return arg
    return None
