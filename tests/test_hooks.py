"""The hooks: bad answers are refused one line each; good ones bake, with their answers kept."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEFAULT_ID, OPTION_SETS, bake
from manifest import TEMPLATE

PACKAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
DEFAULTS = OPTION_SETS[0]


def refused(tmp_path: Path, capfd: pytest.CaptureFixture[str], **answers: str) -> str:
    """Bake, expect the pre-generation hook to refuse, and return what it printed."""
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context=answers,
            output_dir=str(tmp_path),
            default_config=True,
        )
    assert list(tmp_path.iterdir()) == [], "a refused bake must leave nothing behind"
    return capfd.readouterr().err


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"package_name": "1bad"}, "package_name '1bad' is not a Python package name"),
        ({"package_name": "Bad-Name"}, "package_name 'Bad-Name' is not a Python package name"),
        ({"package_name": "class"}, "package_name 'class' is a Python keyword"),
        ({"package_name": "sqlalchemy"}, "package_name 'sqlalchemy' shadows the dependency"),
        ({"package_name": "pandas"}, "package_name 'pandas' shadows the dependency"),
        ({"package_name": "test"}, "package_name 'test' clashes with the standard library's"),
        ({"package_name": "logging"}, "package_name 'logging' shadows the standard library"),
        ({"package_name": "models"}, "package_name 'models' clashes with the project's models/"),
        ({"project_name": 'My "Best" Pipeline'}, "contains a double quote"),
        ({"project_name": "Ops' Pipeline"}, "contains a quote"),
        ({"project_name": "Back\\slash"}, "contains a backslash"),
        ({"project_name": "Two\nLines"}, "contains a newline"),
        ({"description": "one\ntwo"}, "description 'one\\ntwo' contains a newline"),
        ({"author_email": "not-an-address"}, "author_email 'not-an-address' is not an e-mail"),
        ({"github_owner": "-org-"}, "github_owner '-org-' is not a GitHub user"),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
def test_a_bad_answer_is_refused_with_its_message(tmp_path, capfd, answers, message) -> None:
    err = refused(tmp_path, capfd, **answers)
    assert message in err
    assert all(line.startswith("error: ") for line in err.splitlines()), err


def test_every_problem_gets_its_own_line(tmp_path, capfd) -> None:
    err = refused(tmp_path, capfd, package_name="class", author_email="nobody")
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 2


def test_the_command_line_refuses_without_a_traceback(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--default-config"]
        + ["--output-dir", str(tmp_path), str(TEMPLATE), "package_name=class"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "error: package_name 'class' is a Python keyword" in done.stderr
    # cookiecutter itself logs its FailedHookException with a traceback; none comes from the hook.
    assert "pre_gen_project" not in "".join(re.findall(r'File "[^"]+"', done.stderr))
    assert "Error" not in done.stderr.replace("FailedHookException", "").replace("ERROR:", "")


def test_an_answer_cannot_inject_code_into_the_hooks(tmp_path, capfd) -> None:
    marker = tmp_path / "injected"
    name = f'x"); open({str(marker)!r}, "w"); print(("'
    refused(tmp_path / "out", capfd, project_name=name)
    assert not marker.exists()


def test_quotes_in_free_text_answers_come_out_verbatim(tmp_path) -> None:
    author = 'Seán O\'Brien "Ops" \\ Co'
    root = bake(tmp_path, author_name=author, description='Loads "orders"; then: {a: 1}')
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["authors"][0]["name"] == author
    assert project["description"] == 'Loads "orders"; then: {a: 1}'
    cruft = json.loads((root / ".cruft.json").read_text(encoding="utf-8"))
    assert cruft["context"]["cookiecutter"]["author_name"] == author


# cookiecutter renders every answer as a Jinja template before the hooks see it: braces would
# fail there, not here, and a carriage return comes out as a newline. The fuzz leaves them out.
names = st.text(min_size=1, max_size=20).filter(lambda s: not set(s) & set("{}\r"))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=names.filter(lambda s: not PACKAGE_RE.match(s)))
def test_any_invalid_package_name_is_refused(capfd, name: str) -> None:
    with tempfile.TemporaryDirectory() as out:
        err = refused(Path(out), capfd, package_name=name)
    assert f"error: package_name {name!r} is not a Python package name" in err


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.tuples(names, st.sampled_from(['"', "'", "\\", "\n"]), names).map("".join))
def test_any_project_name_with_a_quote_backslash_or_newline_is_refused(capfd, name: str) -> None:
    with tempfile.TemporaryDirectory() as out:
        err = refused(
            Path(out), capfd, project_name=name, project_slug="fine-name", package_name="fine_name"
        )
    assert f"error: project_name {name!r} contains" in err


def test_next_steps_are_printed(tmp_path, capfd) -> None:
    bake(tmp_path, database="mysql")
    out = capfd.readouterr().out
    for step in ("cd my-pipeline", "make db-up", "make install", "make run", "make dashboard"):
        assert step in out


def test_the_answers_file_rebakes_an_identical_project(tmp_path) -> None:
    answers = {**DEFAULTS, "license": "Apache-2.0", "include_dashboard": False}
    first = bake(tmp_path / "first", **answers)
    again = cookiecutter(
        str(TEMPLATE),
        no_input=True,
        config_file=str(first / ".cookiecutter.json"),
        output_dir=str(tmp_path / "again"),
    )
    done = subprocess.run(["diff", "-r", str(first), again], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_cruft_json_records_template_commit_and_every_answer(baked) -> None:
    cruft = json.loads((baked(DEFAULTS) / ".cruft.json").read_text(encoding="utf-8"))
    assert Path(cruft["template"]) == TEMPLATE
    assert cruft["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", cruft["commit"])
    context = cruft["context"]["cookiecutter"]
    for key in ("project_name", "project_slug", "package_name", "database", "license"):
        assert context[key] == DEFAULTS[key]
    assert context["_template"] == cruft["template"]


@pytest.mark.parametrize("database", ["sqlite", "mysql", "postgresql"])
def test_settings_point_at_the_chosen_database(tmp_path, database: str) -> None:
    root = bake(tmp_path, database=database)
    connection = yaml.safe_load((root / "settings.yml").read_text(encoding="utf-8"))["connection"]
    if database == "mysql":
        assert connection["sql_alchemy_driver"] == "mysql+pymysql"
    elif database == "postgresql":
        assert connection["sql_alchemy_driver"] == "postgresql+psycopg"
    else:
        assert connection["url"].endswith("sqlite:///data/warehouse.db}")


def test_a_postgresql_bake_runs_postgres_17_with_a_read_only_dashboard_user(tmp_path) -> None:
    root = bake(tmp_path, database="postgresql")
    compose = yaml.safe_load((root / "docker-compose.yml").read_text(encoding="utf-8"))
    db = compose["services"]["db"]
    assert re.fullmatch(r"postgres:17\.\d+", db["image"]), db["image"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    dashboard = compose["services"]["dashboard"]["environment"]
    assert dashboard["DATABASE_URL"].startswith("postgresql+psycopg://${POSTGRES_READONLY_USER")
    settings = yaml.safe_load((root / "settings.yml").read_text(encoding="utf-8"))
    assert settings["dashboard"]["url"].startswith("postgresql+psycopg://")
    env = (root / ".env.example").read_text(encoding="utf-8")
    for name in ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_READONLY_USER"):
        assert f"\n{name}=" in env
    assert "MYSQL_" not in env
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(dep.startswith("psycopg[binary]") for dep in project["dependencies"])
    init = (root / "docker" / "postgres" / "init.sql").read_text(encoding="utf-8")
    assert "pg_read_all_data" in init and "default_transaction_read_only" in init


def test_without_the_dashboard_nothing_refers_to_it(tmp_path) -> None:
    root = bake(tmp_path, include_dashboard=False)
    compose = yaml.safe_load((root / "docker-compose.yml").read_text(encoding="utf-8"))
    extras = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "dashboard" not in compose["services"]
    assert "dashboard" not in extras["optional-dependencies"]
    assert "\ndashboard:" not in (root / "Makefile").read_text(encoding="utf-8")


def test_the_default_set_is_baked_first() -> None:
    assert DEFAULT_ID.startswith("sqlite-py3.11-MIT-dash-gha")
