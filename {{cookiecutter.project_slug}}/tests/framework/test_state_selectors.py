"""``state:new``, ``state:modified`` (``.code``, ``.config``, ``.checks``) and ``state:removed``
against a ``--state`` manifest, with the graph operators, in ``run``, ``list``, ``test`` and
``export-dag``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_support import cli, run, task_rows
from state_support import at_head

from {{ cookiecutter.package_name }}.core.runner import load_dag
from {{ cookiecutter.package_name }}.core.state import comparing_to
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.errors import StateError
from {{ cookiecutter.package_name }}.settings import Settings


@pytest.fixture
def changed(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, Path]:
    """The project at HEAD (SQLite, migrated) and BASE's manifest."""
    settings, state = at_head(project, tmp_path, monkeypatch)
    upgrade(settings)
    return settings, state


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("state:new", {"fresh"}),
        ("state:modified", {"fresh", "transform", "unrelated", "audited"}),
        ("state:modified.code", {"transform"}),
        ("state:modified.config", {"unrelated"}),
        ("state:modified.checks", {"audited"}),
        ("state:removed", set()),
        ("state:removed+", set()),
        ("state:modified.code+", {"transform", "report"}),
        ("+state:modified.code", {"extract", "transform"}),
        ("+state:new", {"extract", "fresh"}),
        ("state:modified+", {"fresh", "transform", "report", "unrelated", "audited"}),
        ("state:new tag:marts", {"fresh", "report"}),
    ],
)
def test_each_state_selector_picks_its_tasks(
    changed: tuple[Settings, Path], selector: str, expected: set[str]
) -> None:
    settings, state = changed
    with comparing_to(state, settings):
        assert set(load_dag(settings).select([selector])) == expected


def test_no_change_selects_nothing_and_is_not_an_error(changed: tuple[Settings, Path]) -> None:
    settings, _ = changed
    same = settings.root / "same.json"
    assert cli(settings, "manifest", "--out", str(same)).returncode == 0
    with comparing_to(same, settings):
        assert load_dag(settings).select(["state:modified+"]) == []


def test_an_unknown_state_method_names_the_known_ones(changed: tuple[Settings, Path]) -> None:
    settings, state = changed
    with comparing_to(state, settings), pytest.raises(StateError, match="state:modified.code"):
        load_dag(settings).select(["state:changed"])


def test_run_state_modified_plus_runs_exactly_those_tasks(changed: tuple[Settings, Path]) -> None:
    settings, state = changed
    with comparing_to(state, settings):
        report = run(settings, select=("state:modified.code+",))
    assert set(report.tasks) == {"transform", "report"}
    done = cli(settings, "run", "--select", "state:new", "--state", str(state))
    assert done.returncode == 0, done.stderr
    assert {row.task for row in task_rows(settings)} == {"transform", "report", "fresh"}


def test_list_test_and_export_dag_take_state(changed: tuple[Settings, Path]) -> None:
    settings, state = changed
    listed = cli(settings, "list", "--json", "-s", "state:modified.code+", "--state", str(state))
    assert listed.returncode == 0, listed.stderr
    assert [row["task"] for row in json.loads(listed.stdout)] == ["transform", "report"]
    drawn = cli(settings, "export-dag", "-f", "mermaid", "-s", "state:new", "--state", str(state))
    assert drawn.returncode == 0, drawn.stderr
    (drawing,) = (settings.root / "dags").glob("*.mmd")
    mermaid = drawing.read_text(encoding="utf-8")
    assert "fresh" in mermaid and "transform" not in mermaid
    checked = cli(settings, "test", "-s", "state:modified.config", "--state", str(state))
    assert "no checks: unrelated" in checked.stdout, checked.stdout + checked.stderr


def test_a_state_selector_without_state_is_one_paragraph_and_exit_2(
    changed: tuple[Settings, Path],
) -> None:
    settings, _ = changed
    for command in ("run", "list", "test", "export-dag"):
        done = cli(settings, command, "--select", "state:modified+")
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "--state FILE" in done.stderr and "Traceback" not in done.stderr


def test_an_unreadable_state_file_is_exit_2(changed: tuple[Settings, Path]) -> None:
    settings, _ = changed
    missing = cli(settings, "list", "-s", "state:new", "--state", "nowhere.json")
    assert missing.returncode == 2
    assert "--state nowhere.json cannot be read" in " ".join(missing.stderr.split())
