"""The example pipeline that ships in models/ runs on a fresh, migrated database."""

from __future__ import annotations

from engine_support import migrated, run, task_rows, with_example
from sqlalchemy import text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import RunState

__all__ = ["migrated"]

TASKS = ("load_predictions", "task_one", "task_two", "task_three", "task_four")


def count(settings: Settings, table: str) -> int:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


def test_the_example_runs_and_materializes_its_tables(migrated: Settings) -> None:
    report = run(with_example(migrated))
    assert report.status == RunState.SUCCESS
    assert set(report.tasks) == set(TASKS)
    assert count(migrated, "predictions") == 96
    assert count(migrated, "task_two") == 3 and count(migrated, "task_three") == 3
    rows = {r.task: r for r in task_rows(migrated, report.run_id)}
    assert rows["task_two"].rows_affected == 3
    assert rows["task_two"].output_fingerprint is not None


def test_a_second_run_skips_everything_and_says_why(migrated: Settings) -> None:
    run(with_example(migrated))
    second = run(migrated)
    assert set(second.tasks.values()) == {"skipped"}
    assert second.reasons["load_predictions"] == "cached"
    assert second.reasons["task_one"].startswith("ttl: ran ")


def test_an_edit_that_keeps_the_query_keeps_the_stored_table(migrated: Settings) -> None:
    run(with_example(migrated))
    module = migrated.root / "models" / "predictions.py"
    module.write_text(
        module.read_text().replace("    df.show()\n    return df", "    return df", 1)
    )
    report = run(migrated, select=["task_two"])
    assert report.tasks == {"task_two": "success"}
    (row,) = task_rows(migrated, report.run_id)
    assert row.reason == "query unchanged: kept the stored output"
    assert row.rows_affected is None
