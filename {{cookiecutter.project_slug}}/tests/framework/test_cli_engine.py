"""The command line: run, list, export-dag, runs, show-run and migrate, with their exit codes."""

from __future__ import annotations

import json
import re

import pytest
from engine_support import cli, migrated, write_models

from {{ cookiecutter.package_name }}.cli import _expand_multi_value, main
from {{ cookiecutter.package_name }}.db.schema import head_revision
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]

MODELS = """
    from {{ cookiecutter.package_name }}.core.task import Task

    @Task(tags=["staging"])
    def extract():
        pass

    @Task(depends_on=[extract], retry=2)
    def transform():
        pass

    @Task(depends_on=[transform])
    def load():
        pass
"""


def invoke(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``main(args)`` in this process; returns (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as caught:
        main(list(args))
    out, err = capsys.readouterr()
    return caught.value.code, out, err


def test_run_prints_utc_iso_log_lines_naming_the_run_when_not_a_terminal(
    migrated: Settings, capsys
) -> None:
    write_models(migrated.root, MODELS)
    code, _, err = invoke(capsys, "run")
    assert code == 0
    run_id = re.search(r"run (\S+) started", err).group(1)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.search(rf"^{stamp} INFO \[{run_id}\] task extract success", err, re.M), err


def test_select_takes_several_words_after_one_flag() -> None:
    assert _expand_multi_value(["run", "--select", "a", "b+", "--workers", "2"]) == [
        "run",
        "--select",
        "a",
        "--select",
        "b+",
        "--workers",
        "2",
    ]


def test_dry_run_says_what_would_run_and_why(migrated: Settings, capsys) -> None:
    write_models(migrated.root, MODELS)
    invoke(capsys, "run", "--select", "extract")
    code, out, _ = invoke(capsys, "run", "--dry-run")
    assert code == 0
    assert re.search(r"extract\s+│\s+skip\s+│\s+cached", out), out
    assert re.search(r"transform\s+│\s+run\s+│\s+due: never succeeded", out), out
    assert "2 of 3 tasks would run" in out


def test_a_failed_run_exits_1(migrated: Settings, capsys) -> None:
    write_models(
        migrated.root, MODELS.replace("def load():\n        pass", "def load():\n        1 / 0")
    )
    code, _, err = invoke(capsys, "run")
    assert code == 1
    assert "ZeroDivisionError" in err


def test_bad_definitions_exit_2_with_one_paragraph(migrated: Settings, capsys) -> None:
    write_models(
        migrated.root, MODELS.replace("depends_on=[transform]", "depends_on=['transfrom']")
    )
    code, out, err = invoke(capsys, "run")
    assert code == 2
    assert "Traceback" not in err
    assert "depends on 'transfrom', which is not a task; did you mean 'transform'?" in " ".join(
        err.split()
    )


def test_an_unmigrated_database_exits_2_naming_revisions_and_the_fix(
    settings: Settings, capsys
) -> None:
    write_models(settings.root, MODELS)
    code, _, err = invoke(capsys, "run")
    message = " ".join(err.split())
    assert code == 2
    assert (
        f"the database is at revision <empty> but the code expects {head_revision(settings)}"
        in message
    )
    assert "`make migrate`" in message


def test_migrate_upgrades_to_head(settings: Settings, capsys) -> None:
    code, out, _ = invoke(capsys, "migrate")
    assert code == 0
    assert f"database at revision {head_revision(settings)}" in out


def test_list_shows_dependencies_schedule_and_last_status(migrated: Settings, capsys) -> None:
    write_models(migrated.root, MODELS)
    invoke(capsys, "run", "--select", "extract")
    code, out, _ = invoke(capsys, "list", "--json")
    rows = {row["task"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["transform"] == {
        "task": "transform",
        "depends_on": ["extract"],
        "schedule": "daily",
        "ttl_minutes": None,
        "retry": 2,
        "tags": [],
        "last_status": None,
    }
    assert rows["extract"]["last_status"] == "success" and rows["extract"]["tags"] == ["staging"]


@pytest.mark.parametrize(
    ("fmt", "suffix", "start"),
    [
        ("dot", ".dot", b"digraph pipeline {"),
        ("mermaid", ".mmd", b"flowchart LR"),
        ("svg", ".svg", b"<?xml"),
        ("png", ".png", b"\x89PNG"),
    ],
)
def test_export_dag_writes_a_windows_safe_timestamped_file(
    migrated: Settings, capsys, fmt: str, suffix: str, start: bytes
) -> None:
    write_models(migrated.root, MODELS)
    code, out, _ = invoke(capsys, "export-dag", "--format", fmt)
    assert code == 0
    (path,) = (migrated.root / "dags").iterdir()
    assert re.fullmatch(r"dag_\d{8}-\d{6}" + re.escape(suffix), path.name)
    assert not set(path.name) & set('<>:"/\\|?*')
    assert path.read_bytes().startswith(start)


def test_export_dag_colours_nodes_by_a_given_run(migrated: Settings, capsys) -> None:
    write_models(
        migrated.root, MODELS.replace("def load():\n        pass", "def load():\n        1 / 0")
    )
    invoke(capsys, "run")
    _, out, _ = invoke(capsys, "runs", "--json")
    run_id = json.loads(out)[0]["id"]
    invoke(capsys, "export-dag", "--format", "dot", "--run", run_id)
    (path,) = (migrated.root / "dags").iterdir()
    assert '"load" [label="load\\n(failed)", fillcolor="#f4a3a3"];' in path.read_text()


def test_runs_and_show_run_report_the_ledger(migrated: Settings, capsys) -> None:
    write_models(migrated.root, MODELS)
    invoke(capsys, "run")
    _, out, _ = invoke(capsys, "runs", "--json")
    (listed,) = json.loads(out)
    assert listed["status"] == "success" and listed["tasks_total"] == 3
    code, out, _ = invoke(capsys, "show-run", listed["id"], "--json")
    detail = json.loads(out)
    assert code == 0
    assert [(t["task"], t["status"]) for t in detail["tasks"]] == [
        ("extract", "success"),
        ("transform", "success"),
        ("load", "success"),
    ]


def test_show_run_of_an_unknown_id_says_how_to_find_one(migrated: Settings, capsys) -> None:
    code, _, err = invoke(capsys, "show-run", "nope")
    assert code == 1
    assert "no run 'nope' in the ledger; `runs` lists the recent ones" in err


def test_python_dash_m_runs_the_pipeline(migrated: Settings) -> None:
    write_models(migrated.root, MODELS)
    done = cli(migrated, "run", "--select", "extract", "transform")
    assert done.returncode == 0, done.stderr
    assert "task transform success" in done.stderr and "task load" not in done.stderr


def test_a_terminal_gets_a_live_progress_display(migrated: Settings) -> None:
    import io

    from rich.console import Console

    from {{ cookiecutter.package_name }}.console import RichObserver
    from {{ cookiecutter.package_name }}.core.runner import run_pipeline

    write_models(
        migrated.root, MODELS.replace("def load():\n        pass", "def load():\n        1 / 0")
    )
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    run_pipeline(migrated, observer=RichObserver(console))
    shown = screen.getvalue()
    assert "3/3" in shown
    assert "✗ load" in shown and "ZeroDivisionError" in shown


def test_without_graphviz_export_dag_writes_dot_and_says_how_to_get_images(
    migrated: Settings, capsys, monkeypatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    write_models(migrated.root, MODELS)
    code, _, err = invoke(capsys, "export-dag", "--format", "png")
    assert code == 0
    (path,) = (migrated.root / "dags").iterdir()
    assert path.suffix == ".dot"
    assert "Graphviz `dot` is not installed, so PNG cannot be drawn" in " ".join(err.split())


def test_an_unknown_command_is_a_usage_error_not_a_traceback(capsys) -> None:
    code, out, err = invoke(capsys, "bogus")
    assert code == 2
    assert "No such command 'bogus'" in err and "Traceback" not in err


def test_a_bad_option_value_is_a_usage_error(capsys) -> None:
    code, _, err = invoke(capsys, "run", "--workers", "many")
    assert code == 2 and "--workers" in err and "Traceback" not in err
