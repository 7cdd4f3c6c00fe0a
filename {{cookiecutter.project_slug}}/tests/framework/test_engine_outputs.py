"""A returned DataFrame is materialized under the task's name and its data checks recorded."""

from __future__ import annotations

from engine_support import migrated, run, task_rows, write_models
from sqlalchemy import select

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.models import CheckResult
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import TaskState

__all__ = ["migrated"]

MODELS = """
    from {{ cookiecutter.package_name }}.core.task import Task
    from {{ cookiecutter.package_name }}.sql.checks import accepted_values, not_null, row_count

    @Task()
    def raw(session):
        session.create_dataframe([{"id": 1, "grade": "a"}, {"id": 2, "grade": "z"}], name="raw")

    @Task(depends_on=[raw], checks=[not_null("id"), row_count(min=1), GRADES])
    def graded(session):
        return session.table("raw")
"""


def checks_of(settings: Settings) -> dict[str, tuple[str, int]]:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(CheckResult.__table__)).all()
        return {row.name: (row.status, row.failing_rows) for row in rows}
    finally:
        engine.dispose()


def test_passing_checks_are_recorded_with_the_rows_written(migrated: Settings) -> None:
    write_models(migrated.root, MODELS.replace("GRADES", "accepted_values('grade', ['a', 'z'])"))
    report = run(migrated)
    assert report.tasks["graded"] == TaskState.SUCCESS
    row = [r for r in task_rows(migrated, report.run_id) if r.task == "graded"][-1]
    assert row.rows_affected == 2
    assert {status for status, _ in checks_of(migrated).values()} == {"pass"}
    assert len(checks_of(migrated)) == 3


def test_a_failing_error_check_fails_the_task_and_is_recorded(migrated: Settings) -> None:
    write_models(migrated.root, MODELS.replace("GRADES", "accepted_values('grade', ['a'])"))
    report = run(migrated)
    assert report.tasks["graded"] == TaskState.FAILED
    assert report.errors["graded"].startswith("graded: 1 check failed (accepted_values(")
    failed = {name: result for name, result in checks_of(migrated).items() if result[0] != "pass"}
    assert list(failed.values()) == [("fail", 1)]
