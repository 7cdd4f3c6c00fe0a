"""Load-time checks: what would fail (or be ignored) only once a run is under way is refused
before any task runs, with its file and line: a task parameter the engine cannot inject, a
``tasks.<name>`` block in settings.yml that names no task, a key written twice in settings.yml;
and a model that cannot be imported is located in the model (a syntax error at its line)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from engine_support import cli, write_models

from {{ cookiecutter.package_name }}.core.dag import Dag
from {{ cookiecutter.package_name }}.core.discovery import discover_path
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.errors import DefinitionError, SettingsError
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

MODELS = """
    from pathlib import Path

    from {{ cookiecutter.package_name }}.core.task import Task

    @Task()
    def orders():
        Path("orders.ran").write_text("yes")

    @Task(depends_on=[orders])
    def totals(session, cfg):
        pass
"""


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def sqlite_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test project on its default SQLite file, read from its settings.yml."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return load_settings(project / "settings.yml")


def set_task_blocks(settings: Settings, blocks: dict[str, dict[str, object]]) -> Settings:
    path = settings.root / "settings.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["tasks"] = blocks
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_settings(path)


def test_a_parameter_that_cannot_be_injected_stops_the_run_before_any_task(
    sqlite_project: Settings,
) -> None:
    upgrade(sqlite_project)  # so that only the definitions can stop it
    write_models(sqlite_project.root, MODELS)
    done = cli(sqlite_project, "run")
    err = one_line(done.stderr)
    assert done.returncode == 2, done.stderr
    assert "task 'totals' (models/pipeline.py:10): parameter 'cfg' cannot be injected" in err
    assert "config, engine, run, session" in err and "did you mean 'config'?" in err, err
    assert "Traceback" not in done.stderr
    assert not (sqlite_project.root / "orders.ran").exists()  # refused before anything ran


def test_parameters_with_defaults_or_catch_alls_and_the_injectable_names_are_accepted(
    tmp_path: Path,
) -> None:
    write_models(
        tmp_path,
        """
        from {{ cookiecutter.package_name }}.core.task import Task

        @Task()
        def flexible(session, config, engine, run, limit=10, *args, **kwargs):
            pass
        """,
    )
    dag = Dag.from_tasks(discover_path(tmp_path), root=tmp_path)
    assert dag.names == ["flexible"]


def test_an_injectable_name_that_is_positional_only_is_refused(tmp_path: Path) -> None:
    write_models(
        tmp_path,
        """
        from {{ cookiecutter.package_name }}.core.task import Task

        @Task()
        def strict(session, /):
            pass
        """,
    )
    with pytest.raises(DefinitionError, match="parameter 'session' is positional-only"):
        Dag.from_tasks(discover_path(tmp_path), root=tmp_path)


def test_a_tasks_block_naming_no_task_is_refused_with_its_line_and_a_suggestion(
    sqlite_project: Settings,
) -> None:
    write_models(sqlite_project.root, MODELS.replace("session, cfg", "session, config"))
    settings = set_task_blocks(
        sqlite_project, {"orders": {"materialize": "view"}, "totls": {"limit": 3}}
    )
    text = (settings.root / "settings.yml").read_text(encoding="utf-8").splitlines()
    line = text.index("  totls:") + 1
    done = cli(settings, "list")
    err = one_line(done.stderr)
    assert done.returncode == 2, done.stderr
    assert f"tasks.totls (line {line}): no task is named 'totls' under models/" in err, err
    assert "did you mean 'totals'?" in err
    assert "Traceback" not in done.stderr


def test_tasks_blocks_that_all_name_tasks_are_accepted(sqlite_project: Settings) -> None:
    write_models(sqlite_project.root, MODELS.replace("session, cfg", "session, config"))
    settings = set_task_blocks(sqlite_project, {"totals": {"limit": 3}})
    done = cli(settings, "list")
    assert done.returncode == 0, done.stderr


DUPLICATED = """\
project:
  name: demo
tasks:
  orders:
    materialize: table
  orders:
    materialize: view
executor:
  workers: 2
  workers: 8
"""


def test_duplicate_yaml_keys_are_refused_naming_the_key_and_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "settings.yml"
    path.write_text(DUPLICATED, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    problems = caught.value.problems
    assert any(
        p.startswith("tasks.orders (lines 4 and 6): the key is written twice") for p in problems
    )
    assert any(p.startswith("executor.workers (lines 9 and 10)") for p in problems), problems
    assert caught.value.exit_code == 2


def test_duplicate_yaml_keys_stop_the_command_with_exit_2(sqlite_project: Settings) -> None:
    path = sqlite_project.root / "settings.yml"
    path.write_text(path.read_text(encoding="utf-8") + "\nproject:\n  name: again\n")
    done = cli(sqlite_project, "list")
    assert done.returncode == 2, done.stderr
    assert "the key is written twice" in one_line(done.stderr)
    assert "Traceback" not in done.stderr


def test_a_syntax_error_in_a_model_is_located_at_its_file_and_line(tmp_path: Path) -> None:
    write_models(tmp_path, "x = 1\n\n\ndef broken(:\n    pass\n", module="broken")
    with pytest.raises(DefinitionError) as caught:
        discover_path(tmp_path)
    message = str(caught.value)
    assert "models/broken.py:4: importing models.broken failed: SyntaxError" in message, message
    assert "def broken(:" in message
    assert "frozen" not in message


def test_an_error_raised_while_importing_a_model_is_located_in_the_model(
    tmp_path: Path,
) -> None:
    write_models(tmp_path, "import json\n\nSETTINGS = json.loads('{')\n", module="config")
    with pytest.raises(DefinitionError) as caught:
        discover_path(tmp_path)
    assert "models/config.py:3: importing models.config failed" in str(caught.value)
