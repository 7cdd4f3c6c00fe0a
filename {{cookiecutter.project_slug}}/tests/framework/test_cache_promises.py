"""The cache key holds what a task promises: its checks, materialization, schedule and retry
settings. Changing any of them re-runs the task on the next run; a comment does not."""

from __future__ import annotations

from datetime import datetime

import pytest
from engine_support import fingerprints_per_hash_seed, migrated, reload, run, write_models
from sqlalchemy import inspect

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import TaskState

__all__ = ["migrated"]

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MONDAY = datetime(2026, 11, 30, 6, 0)  # the run's clock: Weekly(0) and Daily() are both due

PROMISING = """
    from {{ cookiecutter.package_name }}.core.schedule import Daily, Weekly
    from {{ cookiecutter.package_name }}.core.task import Task
    from {{ cookiecutter.package_name }}.sql.checks import not_null, row_count


    @Task(checks=[row_count(min=1)], runs_on=Daily(), retry=1, retry_delay=0.1)
    def report(session):
        return session.sql("SELECT 1 AS id")


    @Task()
    def plain(session):
        return session.sql("SELECT 2 AS id")
"""


def second_run(settings: Settings, old: str, new: str) -> dict[str, TaskState]:
    """Run the models, edit ``old`` into ``new``, run again: each task's state in that run."""
    assert old in PROMISING, old
    write_models(settings.root, PROMISING)
    assert run(settings, now=MONDAY).tasks["report"] == TaskState.SUCCESS
    write_models(settings.root, PROMISING.replace(old, new))
    return dict(run(settings, now=MONDAY).tasks)


@ON_SQLITE
@pytest.mark.parametrize(
    "new",
    [
        "row_count(min=1, max=5)",
        "row_count(min=1, severity='warn')",
        "row_count(min=1), not_null('id')",
        "row_count(min=1, table='plain')",
    ],
)
def test_changing_a_check_reruns_the_task(migrated: Settings, new: str) -> None:
    states = second_run(migrated, "row_count(min=1)", new)
    assert states == {"report": TaskState.SUCCESS, "plain": TaskState.SKIPPED}


@ON_SQLITE
def test_changing_the_schedule_reruns_the_task(migrated: Settings) -> None:
    states = second_run(migrated, "runs_on=Daily()", "runs_on=Weekly(0)")
    assert states["report"] == TaskState.SUCCESS


@ON_SQLITE
@pytest.mark.parametrize("new", ["retry=2, retry_delay=0.1", "retry=1, retry_delay=0.5"])
def test_changing_the_retry_settings_reruns_the_task(migrated: Settings, new: str) -> None:
    states = second_run(migrated, "retry=1, retry_delay=0.1", new)
    assert states["report"] == TaskState.SUCCESS


@ON_SQLITE
def test_a_comment_or_layout_in_the_decorator_does_not_rerun(migrated: Settings) -> None:
    states = second_run(
        migrated,
        "@Task(checks=[row_count(min=1)], runs_on=Daily(), retry=1, retry_delay=0.1)",
        "@Task(\n        checks=[row_count(min = 1)],  # at least one row\n"
        "        runs_on=Daily(), retry=1, retry_delay=0.1,\n    )",
    )
    assert states == {"report": TaskState.SKIPPED, "plain": TaskState.SKIPPED}


@ON_SQLITE
def test_changing_the_materialization_reruns_and_rebuilds_the_same_query(
    migrated: Settings,
) -> None:
    write_models(migrated.root, PROMISING)
    run(migrated, now=MONDAY)
    path = migrated.root / "settings.yml"
    path.write_text(
        path.read_text().replace("tasks: {}", "tasks:\n  plain:\n    materialize: view\n")
    )
    second = run(reload(migrated), now=MONDAY)
    assert second.tasks == {"report": TaskState.SKIPPED, "plain": TaskState.SUCCESS}
    engine = make_engine(migrated.database_url)
    try:
        assert "plain" in inspect(engine).get_view_names()  # rebuilt as a view, not kept
    finally:
        engine.dispose()


def test_the_promises_hash_the_same_in_every_process(project) -> None:
    write_models(project, PROMISING.replace("row_count(min=1)", "row_count(min=1), not_null('id')"))
    outputs = fingerprints_per_hash_seed(project)
    assert len(outputs) == 1 and "report" in outputs.pop()
