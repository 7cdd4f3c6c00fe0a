"""What the command line loads at start-up: `run` and `ingest` import only what they use.

A module-set check, not a timing: each command runs in a fresh interpreter under ``-X importtime``
and the modules it imported are compared with the heavy ones it must not need. The command
group built for one named command behaves like the whole app: same help, same errors.
"""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest
import typer
from engine_support import PACKAGE, cli_env, migrated, write_models
from ingest_support import HEADER, ORDERS_MODELS, good_rows, write

from {{ cookiecutter.package_name }} import ingest
from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.startup import command_for

__all__ = ["migrated"]

# Libraries no `run` of plain tasks nor `ingest` of a CSV needs (the dashboard, Dask, pandas,
# Arrow, migrations, HTTP clients, templates).
HEAVY = (
    "pandas",
    "numpy",
    "dask",
    "distributed",
    "streamlit",
    "pyarrow",
    "alembic",
    "mako",
    "jinja2",
    "httpx",
    "requests",
    "urllib3",
    "IPython",
    "plotly",
    "altair",
)
# Our own modules that belong to other commands; rich.progress only draws on a terminal.
NOT_ON_RUN = (f"{PACKAGE}.ingest.model", f"{PACKAGE}.dashboard", "rich.progress")
# The ingest ledger's tables are Core tables: the ORM (a tenth of a second to import) is for
# code that opens a session, and an ingest command opens none.
NOT_ON_INGEST = (
    f"{PACKAGE}.core.runner",
    f"{PACKAGE}.dashboard",
    "rich.progress",
    "sqlalchemy.orm",
)

TASKS = """
    from {{ cookiecutter.package_name }}.core.task import Task

    @Task()
    def extract():
        pass

    @Task(depends_on=[extract])
    def load():
        pass
"""


def imported_by(settings: Settings, *args: str) -> set[str]:
    """Every module ``python -m <package> args...`` imported (the command must succeed)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", PACKAGE, *args],
        cwd=settings.root,
        env=cli_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}  # [0] is the header


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The modules of ``names`` (a package or any of its submodules) found in ``modules``."""
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_run_imports_no_heavy_library_nor_other_commands_modules(migrated: Settings) -> None:
    write_models(migrated.root, TASKS)
    modules = imported_by(migrated, "run")
    assert f"{PACKAGE}.core.runner" in modules  # the check sees the run path
    assert loaded(modules, HEAVY) == []
    assert loaded(modules, NOT_ON_RUN) == []


def test_ingest_imports_no_heavy_library_nor_the_task_engine(migrated: Settings) -> None:
    write_models(migrated.root, ORDERS_MODELS)
    write(migrated.root, "a.csv", HEADER + good_rows(3))
    modules = imported_by(migrated, "ingest", "orders")
    assert f"{PACKAGE}.ingest.runner" in modules
    assert loaded(modules, HEAVY) == []
    assert loaded(modules, NOT_ON_INGEST) == []


def test_a_named_command_gets_a_group_of_that_command_alone() -> None:
    group = command_for(app, ["run", "--select", "a"])
    assert isinstance(group, typer.core.TyperGroup)
    assert list(group.commands) == ["run"]
    assert list(command_for(app, ["settings-schema"]).commands) == ["settings-schema"]


@pytest.mark.parametrize("args", [[], ["--help"], ["--help", "run"], ["rn"], ["show_run"]])
def test_no_or_an_unknown_command_gets_the_whole_app(args: list[str]) -> None:
    assert command_for(app, args) is app


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--help"],
        ["ingest", "--help"],
        ["show-run", "--help"],
        ["show-run"],
        ["export-dag", "--format", "gif"],
        ["run", "--workers", "x"],
        ["run", "--no-such-flag"],
    ],
)
def test_the_one_command_group_answers_like_the_whole_app(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Help texts and usage errors, printed from the lean group and from the app."""
    answers = []
    for command in (command_for(app, args), app):
        with pytest.raises(SystemExit) as caught:
            command(args=list(args), prog_name="pipeline", standalone_mode=True)
        answers.append((caught.value.code, capsys.readouterr()))
    assert command_for(app, args) is not app
    assert answers[0] == answers[1]


def test_the_ingest_package_gives_its_names_on_first_use() -> None:
    from {{ cookiecutter.package_name }}.ingest import hooks, model, sources

    assert ingest.CsvSource is sources.CsvSource
    assert ingest.IngestModel is model.IngestModel
    assert ingest.on_failure is hooks.on_failure
    assert ingest.fields.__name__ == f"{PACKAGE}.ingest.fields"
    assert set(ingest.__all__) <= set(dir(ingest))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ingest.nope  # noqa: B018 (the lookup is the test)


def test_the_process_entry_runs_the_cli_with_the_collector_on_and_freezes_at_exit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from {{ cookiecutter.package_name }}.__main__ import entry

    monkeypatch.setattr(sys, "argv", ["pipeline", "run", "--help"])
    seen = []
    monkeypatch.setattr(f"{PACKAGE}.cli.main", lambda: seen.append(gc.isenabled()))
    gc.unfreeze()
    try:
        entry()
        assert seen == [True]  # collections are off only while the libraries import
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process lives on: let the collector see everything again
