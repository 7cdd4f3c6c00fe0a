"""Table lineage: each task run records the tables it read and wrote; ``show-run`` and ``list
--lineage`` show them; a read of a table that a task outside the reader's ancestors writes
warns, and fails the task under ``run --strict``."""

from __future__ import annotations

import json

import pytest
from engine_support import cli, migrated, run, with_example, write_models
from sqlalchemy import inspect, select

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.models import TABLES, TASKS
from {{ cookiecutter.package_name }}.db.schema import current_revision, downgrade, upgrade
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import RunState, TaskState

__all__ = ["migrated"]

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# What the example pipeline in models/ reads and writes.
EXAMPLE_LINEAGE = {
    ("load_predictions", "predictions", "write"),
    ("task_one", "predictions", "read"),
    ("task_two", "predictions", "read"),
    ("task_two", "task_two", "write"),
    ("task_three", "predictions", "read"),
    ("task_three", "task_three", "write"),
    ("task_four", "predictions", "read"),
}

TEAMS = """
    from {{ cookiecutter.package_name }}.core.task import Task


    @Task()
    def team_stats(session):
        return session.sql("SELECT 'ajax' AS team, 3 AS wins")


    @Task()
    def team_report(session):
        stats = session.table("team_stats")
        return stats.select(stats.team)
"""
WARNING = (
    "team_report reads team_stats, which task team_stats writes, but does not depend on it: "
    "add depends_on=[team_stats]"
)


def lineage(settings: Settings, run_id: str) -> set[tuple[str, str, str]]:
    engine = make_engine(settings.database_url)
    query = (
        select(TASKS.c.task, TABLES.c.table_name, TABLES.c.access)
        .join(TASKS, TASKS.c.id == TABLES.c.task_run_id)
        .where(TASKS.c.run_id == run_id)
    )
    try:
        with engine.connect() as conn:
            return {tuple(row) for row in conn.execute(query)}
    finally:
        engine.dispose()


def test_the_example_pipeline_records_the_tables_each_task_read_and_wrote(
    migrated: Settings,
) -> None:
    report = run(with_example(migrated))
    assert report.status == RunState.SUCCESS
    assert lineage(migrated, report.run_id) == EXAMPLE_LINEAGE
    assert report.warnings == {}  # every read of the example is declared


@ON_SQLITE
def test_show_run_shows_each_tasks_tables(migrated: Settings) -> None:
    report = run(with_example(migrated))
    shown = cli(migrated, "show-run", report.run_id)
    assert shown.returncode == 0, shown.stderr
    assert "tables task_two: read predictions; wrote task_two" in shown.stdout
    assert "tables load_predictions: read -; wrote predictions" in shown.stdout
    detail = json.loads(cli(migrated, "show-run", "last", "--json").stdout)
    assert detail["lineage"]["task_three"] == {"read": ["predictions"], "write": ["task_three"]}


@ON_SQLITE
def test_list_lineage_shows_the_tables_of_each_tasks_last_run(migrated: Settings) -> None:
    with_example(migrated)
    before = json.loads(cli(migrated, "list", "--lineage", "--json").stdout)
    assert {row["task"]: row["read"] for row in before}["task_two"] == []  # never run
    run(migrated)
    listed = cli(migrated, "list", "--lineage")
    assert listed.returncode == 0, listed.stderr
    assert "reads" in listed.stdout and "writes" in listed.stdout
    rows = {
        row["task"]: row for row in json.loads(cli(migrated, "list", "--lineage", "--json").stdout)
    }
    assert rows["task_two"]["read"] == ["predictions"]
    assert rows["task_two"]["write"] == ["task_two"]
    assert rows["load_predictions"]["write"] == ["predictions"]
    plain = json.loads(cli(migrated, "list", "--json").stdout)
    assert "read" not in plain[0]  # lineage only when asked


def test_an_undeclared_read_warns_naming_the_fix(migrated: Settings) -> None:
    write_models(migrated.root, TEAMS)
    run(migrated, select=["team_stats"])
    report = run(migrated)
    assert report.tasks["team_report"] == TaskState.SUCCESS
    assert report.warnings["team_report"] == WARNING
    assert ("team_report", "team_stats", "read") in lineage(migrated, report.run_id)


@ON_SQLITE
def test_run_shows_the_warning_and_strict_makes_it_an_error(migrated: Settings) -> None:
    write_models(migrated.root, TEAMS)
    assert cli(migrated, "run", "--select", "team_stats").returncode == 0
    strict = cli(migrated, "run", "--strict")
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert WARNING in strict.stdout + strict.stderr
    engine = make_engine(migrated.database_url)
    try:
        assert "team_report" not in inspect(engine).get_table_names()  # nothing published
    finally:
        engine.dispose()
    lenient = cli(migrated, "run")
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert WARNING in lenient.stdout + lenient.stderr


@ON_SQLITE
def test_a_declared_dependency_silences_the_warning(migrated: Settings) -> None:
    write_models(
        migrated.root,
        TEAMS.replace(
            "@Task()\n    def team_report", "@Task(depends_on=[team_stats])\n    def team_report"
        ),
    )
    report = run(migrated, strict=True)
    assert report.tasks["team_report"] == TaskState.SUCCESS and report.warnings == {}


@ON_SQLITE
def test_a_table_written_in_an_earlier_run_is_known_by_its_writer(migrated: Settings) -> None:
    write_models(
        migrated.root,
        """
        from {{ cookiecutter.package_name }}.core.task import Task


        @Task()
        def seed_teams(session):
            session.create_dataframe([{"team": "ajax"}], "raw_teams")


        @Task()
        def teams(session):
            return session.table("raw_teams")
        """,
    )
    first = run(migrated, select=["seed_teams"])
    assert ("seed_teams", "raw_teams", "write") in lineage(migrated, first.run_id)
    report = run(migrated, select=["teams"])
    assert report.warnings["teams"] == (
        "teams reads raw_teams, which task seed_teams writes, but does not depend on it: "
        "add depends_on=[seed_teams]"
    )


def test_migration_0004_adds_task_tables_and_downgrades_cleanly(settings: Settings, engine) -> None:
    upgrade(settings, "0004")
    assert current_revision(engine) == "0004"
    assert "task_tables" in inspect(engine).get_table_names()
    downgrade(settings, "0003")
    assert current_revision(engine) == "0003"
    assert "task_tables" not in inspect(engine).get_table_names()
    assert "task_runs" in inspect(engine).get_table_names()
    upgrade(settings)
    assert "task_tables" in inspect(engine).get_table_names()
