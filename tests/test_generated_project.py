"""Every option set of the pairwise cover, installed for real in its own venv, passes its own suite.

The default, the first MySQL and the first PostgreSQL option set run their whole suite
(`make test-all`) between them, each the part its database owns: the default bake every test on
SQLite, the MySQL bake the MySQL tests and the PostgreSQL bake the PostgreSQL ones
(REQUIRE_MYSQL=1 / REQUIRE_POSTGRES=1 turn a skip into a failure); then their example pipeline
with `make run`, on threads and on Dask. Every other option set, and both servers' bakes, run
``QUICK``: the framework's tests that read the bake's own files and run its example. The
default bake's `make test` collects only the project's own tests and the framework's smoke set.
Each suite's counts are printed at the end of the session.

Slow: each bake gets its own virtualenv (no system site-packages) through its `make install`,
from one wheelhouse shared by all of them (``wheels.py``). A MySQL or PostgreSQL bake's `.env`
points its settings.yml at a throwaway database on the MYSQL_URL or POSTGRES_URL server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from conftest import BAKE_IDS, DEFAULT_ID, OPTION_SETS, bake, set_id
from lockfile import for_environment
from mysql_server import MySQLServer
from postgres_server import PostgresServer
from wheels import fill_wheelhouse, install_env

pytestmark = pytest.mark.slow
# A sub-make must not inherit our make's command-line variables (PYTEST_ARGS=... and so on).
MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "MAKE_TERMOUT")
MAKE_VARIABLES += ("MAKE_TERMERR", "VIRTUAL_ENV", "PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")
# The framework's tests that read the bake's own files (settings, compose, Dockerfile, README,
# deploy files, migrations) and run its example: what differs between option sets. Every bake
# but the default runs them, a minute; the framework's code is the same in every bake.
BAKE_FILE_TESTS = " ".join(
    f"tests/framework/{module}"
    for module in (
        "test_deploy_commands.py",
        "test_engine_example.py",
        "test_migrations.py",
        "test_package_structure.py",
        "test_readme_commands.py",
        "test_settings.py",
        "test_settings_schema.py",
        "test_setup_defaults.py",
    )
)
QUICK_MARKS = "not slow and not faults and not browser and not mysql and not postgresql"
# With them, the project's own tests (tests/models/: the example's task tests), which run on the
# bake's server when its URL is set.
QUICK = f'-m "{QUICK_MARKS}" {BAKE_FILE_TESTS} tests/models'
# The `make test-all` runs of each whole-suite bake: a test of one server runs in that server's
# bake (its settings, .env and compose name that server), everything else in the default bake.
SUITE_PART = {
    "sqlite": ['-m "not mysql and not postgresql"'],
    "mysql": ["-m mysql", QUICK],
    "postgresql": ["-m postgresql", QUICK],
}
# What each server's bake and tests need in the environment.
SERVER_VARIABLES = {
    "mysql": ("MYSQL_URL", "REQUIRE_MYSQL"),
    "postgresql": ("POSTGRES_URL", "REQUIRE_POSTGRES"),
}
# The CLI's closing line when every task of the run succeeded.
RUN_SUCCEEDED = re.compile(r"^.*(?::| \[\S+\]) run \S+ success: \d+ success$", re.MULTILINE)
SUMMARY = re.compile(r"\d+ (passed|failed|skipped|deselected|errors?|xfailed|xpassed)\b")


def first(database: str) -> dict[str, Any]:
    return next(answers for answers in OPTION_SETS if answers["database"] == database)


WHOLE_SUITE = [OPTION_SETS[0], first("mysql"), first("postgresql")]
WHOLE_IDS = {set_id(answers) for answers in WHOLE_SUITE}


def most_options_on(database: str) -> dict[str, Any]:
    """The option set of ``database`` with the most yes/no options on (the first of equals)."""
    of_database = [answers for answers in OPTION_SETS if answers["database"] == database]
    return max(of_database, key=lambda a: sum(v is True for v in a.values()))


# mypy takes a minute or more a bake: it checks one bake per server database, the one whose
# package has the most modules; ruff, black and isort (seconds) check every bake. The default
# bake's own suite runs its whole `make lint` (tests/framework/test_static_checks.py), so not again
# here.
MYPY_IDS = {set_id(most_options_on(database)) for database in SUITE_PART if database != "sqlite"}
QUICK_LINT = (["black", "--check", "."], ["isort", "--check-only", "."], ["ruff", "check", "."])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES}
    env.update(extra)
    return env


def run(
    args: list[str], cwd: Path, timeout: int, check: bool = True, **env: str
) -> subprocess.CompletedProcess:
    """Run a command in a bake; with ``check``, a non-zero exit fails the test with its output."""
    done = subprocess.run(
        args,
        cwd=cwd,
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    if check and done.returncode != 0:
        failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        summary = "\n".join(failed[:40])
        pytest.fail(f"{' '.join(args)} exited {done.returncode}:\n{summary}\n{done.stdout[-4000:]}")
    return done


def mysql_server() -> MySQLServer | None:
    """The MYSQL_URL server, or None (then MySQL bakes test on SQLite only)."""
    url = os.environ.get("MYSQL_URL")
    return MySQLServer(url) if url else None


def server_for(database: str) -> MySQLServer | PostgresServer | None:
    """The server a bake for ``database`` runs on: None for SQLite, or when its URL is unset."""
    if database == "mysql":
        return mysql_server()
    url = os.environ.get("POSTGRES_URL") if database == "postgresql" else None
    return PostgresServer(url) if url else None


def required(answers: dict[str, Any]) -> dict[str, str]:
    """REQUIRE_MYSQL=1 / REQUIRE_POSTGRES=1 for each server whose URL is set and whose tests
    this whole-suite bake runs."""
    runs = SERVER_VARIABLES if answers["database"] == "sqlite" else [answers["database"]]
    return {
        SERVER_VARIABLES[server][1]: "1"
        for server in runs
        if os.environ.get(SERVER_VARIABLES[server][0])
    }


@pytest.fixture(scope="session")
def wheelhouse(baked) -> Path:
    return fill_wheelhouse(baked(OPTION_SETS[0]))


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Iterator[Any]:
    """``installed(answers)``: the option set baked and `make install`-ed once per session.

    A MySQL (PostgreSQL) bake, with MYSQL_URL (POSTGRES_URL) set, first gets a `.env` naming a
    new database on that server.
    """
    cache: dict[str, Path] = {}
    databases: list[tuple[MySQLServer | PostgresServer, Path, str]] = []

    def get(answers: dict[str, Any]) -> Path:
        key = set_id(answers)
        if key not in cache:
            root = bake(tmp_path_factory.mktemp(f"installed-{key}"), **answers)
            server = server_for(answers["database"])
            database = f"test_bake_{uuid.uuid4().hex[:12]}"
            if server is not None:
                (root / ".env").write_text(server.dotenv(root / ".env.example", database))
            # The defaults install with pip, as a new user's do; the others may take uv.
            env = install_env(answers["python_version"], wheelhouse, uv=key != DEFAULT_ID)
            run(["make", "install"], root, timeout=1800, **env)
            if server is not None:
                server.create(root / ".venv" / "bin" / "python", database)
                databases.append((server, root, database))
            cache[key] = root
        return cache[key]

    yield get
    for server, root, database in databases:
        server.drop(root / ".venv" / "bin" / "python", database)


@pytest.mark.parametrize("answers", OPTION_SETS, ids=BAKE_IDS)
def test_install_makes_an_isolated_venv_with_the_project(installed, answers) -> None:
    root = installed(answers)
    config = (root / ".venv" / "pyvenv.cfg").read_text(encoding="utf-8")
    assert "include-system-site-packages = false" in config
    module = f"import {answers['package_name']}.settings"
    done = run([".venv/bin/python", "-c", module], root, timeout=120)
    assert done.stdout == ""


# The environment markers of a venv's own Python (packaging is in every lock: pytest needs it).
MARKER_ENVIRONMENT = (
    "import json, packaging.markers as m; print(json.dumps(m.default_environment()))"
)


@pytest.mark.parametrize("answers", OPTION_SETS, ids=BAKE_IDS)
def test_the_venv_holds_exactly_the_lock(installed, answers) -> None:
    """`make install` put in exactly what requirements-dev.txt pins for this Python, no more."""
    root = installed(answers)

    def output(*command: str) -> str:  # stdout alone: pip may warn on stderr
        return subprocess.run(
            command, cwd=root, env=clean_env(), capture_output=True, text=True, check=True
        ).stdout

    environment = json.loads(output(".venv/bin/python", "-c", MARKER_ENVIRONMENT))
    # A venv that uv made has no pip in it: uv lists it.
    if (root / ".venv" / "bin" / "pip").exists():
        freeze = [".venv/bin/python", "-m", "pip", "freeze", "--exclude-editable"]
    else:
        uv = str(Path(sys.executable).with_name("uv"))
        freeze = [uv, "pip", "freeze", "--exclude-editable", "--python", ".venv/bin/python"]
    frozen = {}
    for line in output(*freeze).splitlines():
        name, _, version = line.partition("==")
        frozen[canonicalize_name(name)] = version
    assert frozen == for_environment(root / "requirements-dev.txt", environment)


def suite_summary(output: str) -> str:
    """The closing line of a pytest run: ``N passed, N skipped, ... in Ns``."""
    lines = [line.strip("= ") for line in output.splitlines() if SUMMARY.search(line)]
    assert lines, f"no pytest summary in:\n{output[-2000:]}"
    return lines[-1]


@pytest.mark.parametrize("answers", OPTION_SETS, ids=BAKE_IDS)
def test_the_bakes_own_suite_passes(installed, answers, record_property) -> None:
    root = installed(answers)
    whole = set_id(answers) in WHOLE_IDS
    # With a server to test against, a skipped server test must fail rather than pass quietly.
    servers = required(answers) if whole else {}
    summaries = []
    for part in SUITE_PART[answers["database"]] if whole else [QUICK]:
        args = f"PYTEST_ARGS=-q -p no:cacheprovider {part}"
        done = run(["make", "test-all", args], root, timeout=2700, check=False, **servers)
        summary = suite_summary(done.stdout)
        summaries.append(summary)
        failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        assert done.returncode == 0, "\n".join([summary, *failed[:40], done.stdout[-4000:]])
        assert " passed" in summary and "failed" not in summary and "error" not in summary
    kind = "whole" if whole else "quick"
    record_property("suite", f"{set_id(answers)} ({kind}): {'; '.join(summaries)}")


def collected(root: Path, target: str, args: str = "") -> list[str]:
    """The test ids `make TARGET` collects in ``root`` (with ``args`` added to PYTEST_ARGS)."""
    pytest_args = f"PYTEST_ARGS=--collect-only -q -p no:cacheprovider {args}"
    done = run(["make", target, pytest_args], root, timeout=600, check=False)
    # Nothing collected (a project with no tests of its own yet) makes pytest, so make, fail.
    assert done.returncode == 0 or "no tests collected" in done.stdout, done.stdout[-4000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


@pytest.mark.parametrize("answers", [OPTION_SETS[0]], ids=[DEFAULT_ID])
def test_make_test_runs_the_users_tests_and_the_framework_smoke_only(installed, answers) -> None:
    """`make test` is the project's own tests (outside tests/framework/) and the framework's smoke
    set; `make test-all` collects every test, as pytest on tests/ does."""
    root = installed(answers)
    everything = collected(root, "test-all")
    smoke = collected(root, "test-all", "-m smoke")
    own = collected(root, "test-all", '-m "not framework"')
    quick = collected(root, "test")
    direct = run([".venv/bin/python", "-m", "pytest", "--collect-only", "-q", "tests"], root, 600)
    assert everything == [line for line in direct.stdout.splitlines() if "::" in line]
    assert smoke and all(test.startswith("tests/framework/") for test in smoke)
    assert not any(test.startswith("tests/framework/") for test in own)
    assert sorted(quick) == sorted(smoke + own)
    assert len(quick) * 10 < len(everything), f"{len(quick)} of {len(everything)} in make test"


@pytest.mark.parametrize("answers", WHOLE_SUITE, ids=[set_id(a) for a in WHOLE_SUITE])
@pytest.mark.parametrize("executor", ["threads", "dask"])
def test_make_run_migrates_and_runs_the_example_pipeline(installed, answers, executor) -> None:
    database = answers["database"]
    if database != "sqlite" and server_for(database) is None:
        url, require = SERVER_VARIABLES[database]
        if os.environ.get(require) == "1":
            pytest.fail(f"{require}=1 but {url} is not set")
        pytest.skip(f"{url} is not set: nowhere to run a {database} project")
    root = installed(answers)
    # Every task runs, on this executor, even when an earlier test ran the pipeline.
    args = f"ARGS=--executor {executor} --workers 2 --full-refresh"
    done = run(["make", "run", args], root, timeout=900, DATABASE_URL="")
    assert RUN_SUCCEEDED.search(done.stdout), done.stdout[-4000:]
    if answers["database"] == "sqlite":
        assert (root / "data" / "warehouse.db").is_file()


@pytest.mark.parametrize("answers", OPTION_SETS, ids=BAKE_IDS)
def test_the_bakes_own_lint_passes(installed, answers, record_property) -> None:
    """`make lint` on the bakes that run mypy; its black, isort and ruff on every other."""
    root = installed(answers)
    started = time.monotonic()
    if set_id(answers) in MYPY_IDS:
        run(["make", "lint"], root, timeout=900)
    else:
        for command in QUICK_LINT:
            run([f".venv/bin/{command[0]}", *command[1:]], root, timeout=300)
    took = time.monotonic() - started
    tools = "black, isort, ruff" + (", mypy" if set_id(answers) in MYPY_IDS else "")
    record_property("lint", f"{set_id(answers)}: {tools} in {took:.0f}s")
