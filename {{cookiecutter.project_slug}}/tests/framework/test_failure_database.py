"""Failure paths of the database: every command, run as a user runs it, says what is wrong in one
paragraph with the fix, exits 2, never shows a traceback or a password.

The table: each command x (unreachable server, wrong password, unknown driver, malformed URL,
database ahead of the code, corrupt SQLite file).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_support import write_models
from mysql_support import mysql_server_url, postgres_server_url
from sqlalchemy.engine import make_url

PACKAGE = "{{ cookiecutter.package_name }}"
SRC = Path(__file__).resolve().parents[2] / "src"
SECRET = "s3cret-Pw-42"
UNKNOWN_REVISION = "f00dfeedbeef"

MODELS = f"""
    from {PACKAGE}.core.task import Task
    from {PACKAGE}.ingest import CsvSource, IngestModel, fields

    class Trades(IngestModel, name="trades"):
        __table__ = "trades"
        __source__ = CsvSource("inbox/*.csv")

        id = fields.Integer(required=True)

    @Task()
    def extract():
        pass
"""

COMMANDS = {
    "run": ["run"],
    "list": ["list"],
    "runs": ["runs"],
    "runs-prune": ["runs", "prune", "--older-than", "90d"],
    "show-run": ["show-run", "last"],
    "migrate": ["migrate"],
    "ingest": ["ingest", "trades", "inbox/a.csv"],
    "ingest-status": ["ingest", "--status"],
    "export-dag": ["export-dag", "--format", "dot"],
    "test": ["test"],
}
if importlib.util.find_spec(f"{PACKAGE}.dashboard") is not None:  # baked with the dashboard
    COMMANDS["dashboard"] = ["dashboard", "--port", "8599"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unreachable(project: Path) -> str:
    return f"mysql+pymysql://pipeline:{SECRET}@127.0.0.1:{closed_port()}/my_pipeline"


def _wrong_password(project: Path) -> str:
    server = make_url(mysql_server_url())
    return server.set(password=SECRET, database="test_wrong_password").render_as_string(False)


def _unreachable_postgresql(project: Path) -> str:
    return f"postgresql+psycopg://pipeline:{SECRET}@127.0.0.1:{closed_port()}/my_pipeline"


def _wrong_password_postgresql(project: Path) -> str:
    server = make_url(postgres_server_url())
    return server.set(password=SECRET).render_as_string(False)


def _bad_driver(project: Path) -> str:
    return f"nosuchdb://pipeline:{SECRET}@127.0.0.1/my_pipeline"


def _malformed(project: Path) -> str:
    return f"mysql+pymysql://pipeline:{SECRET}@127.0.0.1:notaport/my_pipeline"


def _ahead(project: Path) -> str:
    """A SQLite database stamped with a revision that none of the project's migrations has."""
    path = project / "data" / "ahead.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES (?)", (UNKNOWN_REVISION,))
    return f"sqlite:///{path}"


def _corrupt(project: Path) -> str:
    path = project / "data" / "corrupt.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not an SQLite database, only text\n" * 200)
    return f"sqlite:///{path}"


# case -> (database URL maker, words the paragraph must hold)
CASES: dict[str, tuple[Callable[[Path], str], tuple[str, ...]]] = {
    "unreachable": (unreachable, ("cannot be reached", "make db-up")),
    "wrong_password": (_wrong_password, ("refused the login", ".env")),
    "unreachable_postgresql": (_unreachable_postgresql, ("cannot be reached", "make db-up")),
    "wrong_password_postgresql": (_wrong_password_postgresql, ("refused the login", "POSTGRES_")),
    "bad_driver": (_bad_driver, ("nosuchdb", "driver")),
    "malformed_url": (_malformed, ("not a database URL",)),
    "schema_ahead": (_ahead, (UNKNOWN_REVISION, "newer version of the project", "update the")),
    "corrupt_sqlite": (_corrupt, ("not a usable database", "corrupt.db")),
}
SERVER_CASES = {
    "wrong_password": pytest.mark.mysql,
    "wrong_password_postgresql": pytest.mark.postgresql,
}
CASE_PARAMS = [
    pytest.param(name, marks=SERVER_CASES[name]) if name in SERVER_CASES else name for name in CASES
]


def cli(project: Path, url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_READONLY", "POSTGRES_READ"))
    }
    environ.update(env)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), environ.get("PYTHONPATH")]))
    environ["PIPELINE_SETTINGS"] = str(project / "settings.yml")
    environ["DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def models_project(project: Path) -> Path:
    write_models(project, MODELS)
    (project / "inbox").mkdir()
    (project / "inbox" / "a.csv").write_text("id\n1\n2\n", encoding="utf-8")
    return project


def assert_one_paragraph(done: subprocess.CompletedProcess, words: tuple[str, ...]) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output, output
    assert SECRET not in output, "the password must never be shown"
    paragraph = done.stderr.strip()
    assert paragraph.startswith("error:"), output
    assert "\n\n" not in paragraph and len(paragraph.splitlines()) <= 8, output
    flat = " ".join(paragraph.split())
    for word in words:
        assert word in flat, output


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_every_command_fails_in_one_paragraph_on_a_database_problem(
    models_project: Path, case: str, command: str
) -> None:
    make_url_for, words = CASES[case]
    url = make_url_for(models_project)
    # The dashboard reads a server's database as its read-only user; give it one to try.
    done = cli(
        models_project,
        url,
        *COMMANDS[command],
        MYSQL_READONLY_USER="dashboard",
        MYSQL_READONLY_PASSWORD=SECRET,
        POSTGRES_READONLY_USER="dashboard",
        POSTGRES_READONLY_PASSWORD=SECRET,
    )
    assert_one_paragraph(done, words)


def test_list_on_a_fresh_never_migrated_sqlite_file_shows_never_run(models_project: Path) -> None:
    done = cli(models_project, f"sqlite:///{models_project / 'data' / 'fresh.db'}", "list")
    assert done.returncode == 0, done.stderr
    assert "extract" in done.stdout and "never run" in done.stdout


def test_run_on_a_schema_behind_the_code_says_make_migrate_and_names_the_database(
    models_project: Path,
) -> None:
    url = f"sqlite:///{models_project / 'data' / 'behind.db'}"
    done = cli(models_project, url, "run")
    assert_one_paragraph(done, ("revision <empty>", "make migrate", "behind.db"))


def test_migrate_upgrades_a_fresh_database_and_a_second_migrate_is_a_no_op(
    models_project: Path,
) -> None:
    url = f"sqlite:///{models_project / 'data' / 'fresh.db'}"
    for _ in range(2):
        done = cli(models_project, url, "migrate")
        assert done.returncode == 0, done.stderr
        assert "database at revision" in done.stdout


@pytest.mark.mysql
def test_an_unknown_mysql_database_says_to_create_it(models_project: Path) -> None:
    url = make_url(mysql_server_url()).set(database="test_no_such_database_here")
    done = cli(models_project, url.render_as_string(hide_password=False), "list")
    assert_one_paragraph(done, ("has no such database", "test_no_such_database_here"))


@pytest.mark.postgresql
def test_an_unknown_postgresql_database_says_to_create_it(models_project: Path) -> None:
    url = make_url(postgres_server_url()).set(database="test_no_such_database_here")
    done = cli(models_project, url.render_as_string(hide_password=False), "list")
    assert_one_paragraph(done, ("has no such database", "test_no_such_database_here"))
