"""``python -m <package> test``: the checks of the selected tasks run against the published
tables, nothing is built or written, the results land in the ledger as a run, and the exit code
says whether an error-severity check failed. On SQLite and MariaDB, through the real CLI."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from engine_support import cli, migrated, run, write_models
from sqlalchemy import Engine, MetaData, Table, inspect, select, text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.models import CHECKS, LATEST, RUNS, TASKS
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import CheckStatus, RunState, TaskState

__all__ = ["migrated"]

MODELS = """
    from {{ cookiecutter.package_name }}.core.task import Task
    from {{ cookiecutter.package_name }}.sql.checks import not_null, row_count, unique

    @Task()
    def players(session):
        return session.create_dataframe(
            [{"id": 1, "team": "a"}, {"id": 2, "team": "b"}, {"id": 3, "team": "b"}],
            name="players_raw",
        )

    @Task(depends_on=[players], checks=[unique("id"), not_null("team"), row_count(min=1)])
    def team_players(session):
        return session.table("players")

    @Task(depends_on=[team_players], checks=[row_count(min=1, severity="warn")])
    def teams(session):
        return session.table("team_players").select("team").distinct()
"""
LEDGER = {"pipeline_runs", "task_runs", "check_results", "task_latest", "run_lock"}


def _snapshot(engine: Engine) -> dict[str, Any]:
    """Every table and view of the database (the ledger's bookkeeping aside) with its rows."""
    inspector = inspect(engine)
    names = sorted({*inspector.get_table_names(), *inspector.get_view_names()} - LEDGER)
    found: dict[str, Any] = {}
    with engine.connect() as conn:
        for name in names:
            table = Table(name, MetaData(), autoload_with=conn)
            found[name] = sorted(map(tuple, conn.execute(select(table))), key=repr)
        found["task_latest"] = sorted(map(tuple, conn.execute(select(LATEST))), key=repr)
    return found


def _built(settings: Settings) -> Engine:
    write_models(settings.root, MODELS)
    report = run(settings)
    assert report.status == RunState.SUCCESS, report.errors
    return make_engine(settings.database_url)


def _test_run(engine: Engine) -> tuple[Any, list[Any], dict[str, list[Any]]]:
    """The newest run, its task rows and each task's check rows."""
    with engine.connect() as conn:
        newest = conn.execute(select(RUNS).order_by(RUNS.c.started_at.desc())).first()
        rows = list(conn.execute(select(TASKS).where(TASKS.c.run_id == newest.id)))
        checks = {
            row.task: list(conn.execute(select(CHECKS).where(CHECKS.c.task_run_id == row.id)))
            for row in rows
        }
    return newest, rows, checks


def test_test_passes_writes_no_table_and_records_a_run(migrated: Settings) -> None:
    engine = _built(migrated)
    try:
        before = _snapshot(engine)
        result = cli(migrated, "test")
        assert result.returncode == 0, result.stderr
        assert _snapshot(engine) == before  # no table written, none added, cache left alone
        newest, rows, checks = _test_run(engine)
    finally:
        engine.dispose()
    assert json.loads(newest.selection)["command"] == "test"
    assert newest.status == RunState.SUCCESS
    assert {row.task: row.status for row in rows} == {
        "team_players": TaskState.SUCCESS,
        "teams": TaskState.SUCCESS,
    }
    names = ["unique(id)", "not_null(team)", "row_count(min=1)"]
    assert [c.name for c in checks["team_players"]] == names
    assert "4 checks on 2 tables: 4 pass" in result.stdout


def test_a_failing_check_on_the_published_table_exits_1_with_a_sample(migrated: Settings) -> None:
    engine = _built(migrated)
    try:
        with engine.begin() as conn:  # someone else writes into the published table
            conn.execute(text("INSERT INTO team_players (id, team) VALUES (2, NULL)"))
        before = _snapshot(engine)
        result = cli(migrated, "test")
        assert result.returncode == 1, result.stdout + result.stderr
        assert _snapshot(engine) == before
        newest, rows, checks = _test_run(engine)
    finally:
        engine.dispose()
    assert "Traceback" not in result.stderr
    assert "unique(id)" in result.stdout and "fail" in result.stdout
    assert newest.status == RunState.FAILED
    row = next(r for r in rows if r.task == "team_players")
    assert row.status == TaskState.FAILED
    assert row.error == "data checks failed: unique(id), not_null(team)"
    by_name = {c.name: c for c in checks["team_players"]}
    assert by_name["unique(id)"].status == CheckStatus.FAIL
    assert json.loads(by_name["unique(id)"].sample) == [{"id": 2, "n": 2}]
    assert by_name["not_null(team)"].failing_rows == 1
    assert by_name["row_count(min=1)"].status == CheckStatus.PASS


def test_a_warn_check_is_recorded_but_exits_0(migrated: Settings) -> None:
    engine = _built(migrated)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM teams"))
        result = cli(migrated, "test", "--select", "teams")
        assert result.returncode == 0, result.stdout + result.stderr
        _, rows, checks = _test_run(engine)
    finally:
        engine.dispose()
    assert [row.task for row in rows] == ["teams"]
    assert [(c.status, c.severity) for c in checks["teams"]] == [("warn", "warn")]
    assert "warn" in result.stdout


def test_select_takes_the_run_syntax_and_tasks_without_checks_are_named(
    migrated: Settings,
) -> None:
    engine = _built(migrated)
    try:
        result = cli(migrated, "test", "--select", "+team_players")
        _, rows, _ = _test_run(engine)
    finally:
        engine.dispose()
    assert result.returncode == 0, result.stderr
    assert [row.task for row in rows] == ["team_players"]
    assert "no checks: players" in result.stdout


def test_a_test_does_not_change_what_the_next_run_skips(migrated: Settings) -> None:
    engine = _built(migrated)
    engine.dispose()
    assert cli(migrated, "test").returncode == 0
    report = run(migrated)
    assert set(report.tasks.values()) == {TaskState.SKIPPED}, report.reasons


def test_checks_in_settings_are_run_too_and_a_misspelt_one_exits_2(migrated: Settings) -> None:
    engine = _built(migrated)
    engine.dispose()
    path = migrated.root / "settings.yml"
    data = yaml.safe_load(path.read_text())
    data["tasks"] = {
        "teams": {"checks": [{"accepted_values": {"column": "team", "values": ["a"]}}]}
    }
    path.write_text(yaml.safe_dump(data))
    result = cli(migrated, "test", "--select", "teams")
    assert result.returncode == 1, result.stdout + result.stderr
    engine = make_engine(migrated.database_url)
    try:
        _, _, checks = _test_run(engine)
    finally:
        engine.dispose()
    assert [(c.name, c.status) for c in checks["teams"]] == [
        ("row_count(min=1)", CheckStatus.PASS),
        ("accepted_values(team, ['a'])", CheckStatus.FAIL),
    ]
    data["tasks"]["teams"]["checks"] = [{"uniqe": ["team"]}]
    path.write_text(yaml.safe_dump(data))
    result = cli(migrated, "test")
    assert result.returncode == 2
    shown = " ".join(result.stderr.split())
    assert re.search(r"tasks\.teams \(line \d+\): checks\[0\]: unknown check 'uniqe'", shown)
    assert "Traceback" not in shown


def test_an_unmigrated_database_is_one_paragraph_and_exit_2(settings: Settings) -> None:
    write_models(settings.root, MODELS)
    result = cli(settings, "test")
    assert result.returncode == 2
    assert "migrate" in result.stderr and "Traceback" not in result.stderr


def test_resume_after_a_test_resumes_the_last_run_not_the_test(migrated: Settings) -> None:
    write_models(migrated.root, MODELS.replace("row_count(min=1)])", "row_count(min=9)])", 1))
    first = run(migrated)
    assert first.tasks["team_players"] == TaskState.FAILED
    assert cli(migrated, "test", "--select", "players").returncode == 0
    write_models(migrated.root, MODELS)
    resumed = run(migrated, resume=True)
    assert resumed.message.startswith(f"resuming run {first.run_id}")
    assert resumed.tasks == {"team_players": TaskState.SUCCESS, "teams": TaskState.SUCCESS}
