"""Running a pipeline: order, retries, failures, fail-fast, timeouts and what the ledger holds."""

from __future__ import annotations

import pytest
from engine_support import migrated, run, task_rows, write_models

from {{ cookiecutter.package_name }}.errors import DefinitionError, MigrationsPendingError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import RunState, TaskState

__all__ = ["migrated"]

DIAMOND = """
    from {{ cookiecutter.package_name }}.core.task import Task

    @Task()
    def a():
        pass

    @Task(depends_on=[a])
    def b():
        pass

    @Task(depends_on=[a])
    def c():
        raise RuntimeError("c is broken")

    @Task(depends_on=[b, c])
    def d():
        pass

    @Task(depends_on=[b])
    def e():
        pass
"""


def test_a_successful_run_records_one_success_row_per_task(migrated: Settings) -> None:
    write_models(migrated.root, DIAMOND.replace('raise RuntimeError("c is broken")', "pass"))
    report = run(migrated)
    assert report.status == RunState.SUCCESS and report.exit_code == 0
    rows = task_rows(migrated, report.run_id)
    assert sorted((r.task, r.attempt, r.status) for r in rows) == [
        (name, 1, "success") for name in "abcde"
    ]
    assert all(r.started_at and r.finished_at and r.duration_ms is not None for r in rows)


def test_a_failure_marks_descendants_upstream_failed_and_independent_branches_finish(
    migrated: Settings,
) -> None:
    write_models(migrated.root, DIAMOND)
    report = run(migrated)
    assert report.status == RunState.FAILED and report.exit_code == 1
    assert report.tasks == {
        "a": TaskState.SUCCESS,
        "b": TaskState.SUCCESS,
        "c": TaskState.FAILED,
        "d": TaskState.UPSTREAM_FAILED,
        "e": TaskState.SUCCESS,
    }
    rows = {r.task: r for r in task_rows(migrated, report.run_id)}
    assert rows["d"].reason == "upstream 'c' failed" and rows["d"].started_at is None
    assert rows["c"].error.startswith("RuntimeError: c is broken")
    assert "Traceback" in rows["c"].error


def test_retry_succeeds_on_the_third_attempt_with_growing_delays(migrated: Settings) -> None:
    write_models(
        migrated.root,
        """
        from {{ cookiecutter.package_name }}.core.task import Task

        calls = []

        @Task(retry=3, retry_delay=0.02)
        def flaky(run):
            calls.append(run.attempt)
            if run.attempt < 3:
                raise ConnectionError(f"attempt {run.attempt} lost the connection")
        """,
    )
    report = run(migrated)
    assert report.tasks == {"flaky": TaskState.SUCCESS}
    rows = task_rows(migrated, report.run_id)
    assert [(r.attempt, r.status) for r in rows] == [(1, "failed"), (2, "failed"), (3, "success")]
    first, second = report.retry_delays["flaky"]
    assert 0.02 <= first <= 0.03 and 0.04 <= second <= 0.05 and second > first
    assert rows[0].reason == f"retry 1/3 in {first:.2f} s"


def test_retries_run_out_and_the_task_fails(migrated: Settings) -> None:
    write_models(
        migrated.root,
        """
        from {{ cookiecutter.package_name }}.core.task import Task

        @Task(retry=1, retry_delay=0.01)
        def always_fails():
            raise ValueError("bad data")
        """,
    )
    report = run(migrated)
    assert report.tasks == {"always_fails": TaskState.FAILED}
    assert [r.status for r in task_rows(migrated, report.run_id)] == ["failed", "failed"]


def test_fail_fast_starts_nothing_after_the_first_failure(migrated: Settings) -> None:
    write_models(
        migrated.root,
        """
        from {{ cookiecutter.package_name }}.core.task import Task

        @Task()
        def broken():
            raise RuntimeError("no")

        @Task(depends_on=[broken])
        def child():
            pass

        @Task(depends_on=["broken"])
        def other_child():
            pass

        @Task()
        def zz_later():
            pass
        """,
    )
    report = run(migrated, fail_fast=True, workers=1)
    assert report.tasks["broken"] == TaskState.FAILED
    assert report.tasks["zz_later"] == TaskState.CANCELLED
    assert report.tasks["child"] == TaskState.UPSTREAM_FAILED
    rows = {r.task: r for r in task_rows(migrated, report.run_id)}
    assert rows["zz_later"].reason == "not started: --fail-fast after 'broken' failed"


def test_a_task_past_its_timeout_fails_and_is_told_to_stop(migrated: Settings) -> None:
    write_models(
        migrated.root,
        """
        import time
        from {{ cookiecutter.package_name }}.core.task import Task

        @Task(timeout=0.2)
        def slow(run):
            while not run.should_stop():
                time.sleep(0.01)
        """,
    )
    report = run(migrated)
    assert report.tasks == {"slow": TaskState.FAILED}
    assert "TimeoutError: took longer than 0.2 s" in report.errors["slow"]


def test_injection_gives_config_engine_and_run(migrated: Settings) -> None:
    (migrated.root / "settings.yml").write_text(
        (migrated.root / "settings.yml")
        .read_text()
        .replace("tasks: {}", "tasks:\n  probe:\n    threshold: 3\n")
    )
    write_models(
        migrated.root,
        """
        from sqlalchemy import text
        from {{ cookiecutter.package_name }}.core.task import Task

        seen = {}

        @Task()
        def probe(config, engine, run):
            with engine.connect() as conn:
                seen["one"] = conn.execute(text("select 1")).scalar()
            seen.update(config=config, task=run.task, attempt=run.attempt, run_id=run.run_id)
        """,
    )
    from engine_support import reload

    settings = reload(migrated)
    report = run(settings)
    import models.pipeline as module

    assert module.seen == {
        "one": 1,
        "config": {"threshold": 3},
        "task": "probe",
        "attempt": 1,
        "run_id": report.run_id,
    }


def test_every_row_is_terminal_when_the_run_ends(migrated: Settings) -> None:
    write_models(migrated.root, DIAMOND)
    report = run(migrated)
    assert {r.status for r in task_rows(migrated, report.run_id)} <= {
        "success",
        "failed",
        "upstream_failed",
    }


def test_bad_definitions_are_refused_before_anything_runs(migrated: Settings) -> None:
    write_models(
        migrated.root,
        """
        from {{ cookiecutter.package_name }}.core.task import Task

        @Task(depends_on=["nothing_here"])
        def lonely():
            pass
        """,
    )
    with pytest.raises(DefinitionError) as caught:
        run(migrated)
    assert caught.value.exit_code == 2
    assert task_rows(migrated) == []


def test_a_database_behind_head_is_refused_naming_both_revisions(settings: Settings) -> None:
    from {{ cookiecutter.package_name }}.db.schema import head_revision, upgrade

    upgrade(settings, "0001")
    write_models(settings.root, DIAMOND)
    with pytest.raises(MigrationsPendingError) as caught:
        run(settings)
    message = str(caught.value)
    assert "0001" in message and head_revision(settings) in message
    assert "make migrate" in message


def test_an_attempt_is_a_plain_picklable_call(migrated: Settings) -> None:
    import pickle

    from {{ cookiecutter.package_name }}.core.attempt import AttemptCall, run_attempt
    from {{ cookiecutter.package_name }}.core.runner import load_dag

    write_models(migrated.root, DIAMOND)
    dag = load_dag(migrated)
    call = AttemptCall(
        task=dag.tasks["c"],
        run_id="r1",
        attempt=2,
        config={"k": 1},
        database_url=migrated.database_url.render_as_string(hide_password=False),
    )
    copy = pickle.loads(pickle.dumps(call))
    assert copy.task is dag.tasks["c"] and copy.attempt == 2
    outcome = run_attempt(copy)
    assert not outcome.ok and outcome.error.startswith("RuntimeError: c is broken")


def test_bare_decorators_and_async_tasks_work(migrated: Settings) -> None:
    write_models(
        migrated.root,
        """
        import asyncio
        from {{ cookiecutter.package_name }}.core.task import Task

        done = []

        @Task
        def plain():
            done.append("plain")

        @Task(depends_on=[plain])
        async def later():
            await asyncio.sleep(0)
            done.append("later")
        """,
    )
    report = run(migrated)
    import models.pipeline as module

    assert report.tasks == {"plain": TaskState.SUCCESS, "later": TaskState.SUCCESS}
    assert module.done == ["plain", "later"]


def test_resume_reruns_only_the_failed_and_never_started_tasks(migrated: Settings) -> None:
    write_models(migrated.root, DIAMOND)
    first = run(migrated)
    write_models(migrated.root, DIAMOND.replace('raise RuntimeError("c is broken")', "pass"))
    resumed = run(migrated, resume=True)
    assert resumed.status == RunState.SUCCESS
    assert set(resumed.tasks) == {"c", "d"}
    assert resumed.message == f"resuming run {first.run_id} (failed): 2 tasks to run"


def test_a_dry_run_plans_without_running_or_recording(migrated: Settings) -> None:
    write_models(migrated.root, DIAMOND)
    run(migrated, select=["a"])
    report = run(migrated, dry_run=True)
    assert report.dry_run and report.run_id is None
    plan = {item.name: (item.run, item.reason) for item in report.plan}
    assert plan["a"] == (False, "cached")
    assert plan["b"] == (True, "due: never succeeded")
    assert len(task_rows(migrated)) == 1
