"""Schedules and TTL decide with an injected ``now``; a skipped task still satisfies its children."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from engine_support import migrated, run, task_rows, write_models

from {{ cookiecutter.package_name }}.core.schedule import Cron, Daily, Monthly, Weekly
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.system import utcnow

__all__ = ["migrated"]

MONDAY_FIRST = datetime(2026, 11, 2, 9, 0)  # the first Monday of November 2026
MONDAY_LATER = datetime(2026, 11, 9, 9, 0)
TUESDAY = datetime(2026, 11, 3, 9, 0)


@pytest.mark.parametrize(
    ("schedule", "now", "due"),
    [
        (Daily(), TUESDAY, True),
        (Weekly(0), MONDAY_LATER, True),
        (Weekly(0), TUESDAY, False),
        (Weekly(1), TUESDAY, True),
        (Monthly(), MONDAY_FIRST, True),
        (Monthly(), MONDAY_LATER, False),
        (Monthly(weekday=1), TUESDAY, True),
    ],
)
def test_calendar_schedules(schedule, now: datetime, due: bool) -> None:
    assert schedule.is_due(now, last_success=now - timedelta(days=1)) is due


def test_cron_is_due_once_a_fire_time_passed_since_the_last_success() -> None:
    mondays_at_3 = Cron("0 3 * * 1")
    assert mondays_at_3.is_due(MONDAY_LATER, last_success=MONDAY_FIRST)
    assert not mondays_at_3.is_due(MONDAY_LATER, last_success=MONDAY_LATER - timedelta(hours=1))
    assert mondays_at_3.is_due(MONDAY_LATER, last_success=None)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Cron("every monday"), "invalid cron expression 'every monday'"),
        (lambda: Weekly(7), "weekday must be 0 (Monday) to 6 (Sunday), got 7"),
    ],
)
def test_bad_schedules_say_what_to_fix(build, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


SCHEDULED = """
    from {{ cookiecutter.package_name }}.core.schedule import Weekly
    from {{ cookiecutter.package_name }}.core.task import Task

    @Task(runs_on=Weekly(0))
    def weekly_parent():
        pass

    @Task(depends_on=[weekly_parent], ttl_minutes=60)
    def hourly_child():
        pass

    @Task(depends_on=[hourly_child])
    def grandchild():
        pass
"""


def test_a_task_never_run_runs_whatever_its_schedule(migrated: Settings) -> None:
    write_models(migrated.root, SCHEDULED)
    report = run(migrated, now=TUESDAY)
    assert report.reasons["weekly_parent"] == "due: never succeeded"
    assert set(report.tasks.values()) == {"success"}


def next_wednesday() -> datetime:
    today = utcnow()
    return today + timedelta(days=(2 - today.weekday()) % 7 or 7)


def test_a_task_off_schedule_is_skipped_and_its_children_still_run(migrated: Settings) -> None:
    write_models(migrated.root, SCHEDULED)
    run(migrated)
    report = run(migrated, now=next_wednesday())
    assert report.tasks["weekly_parent"] == "skipped"
    assert report.reasons["weekly_parent"] == "not scheduled (weekly on Monday)"
    assert report.tasks["hourly_child"] == "success"
    assert report.tasks["grandchild"] == "success"


def test_ttl_skips_a_task_that_ran_recently(migrated: Settings) -> None:
    write_models(migrated.root, SCHEDULED)
    run(migrated)
    report = run(migrated, select=["hourly_child"], now=utcnow() + timedelta(minutes=30))
    assert report.tasks == {"hourly_child": "skipped"}
    assert report.reasons["hourly_child"] == "ttl: ran 30 min ago (ttl 60 min)"


def test_ttl_expiry_reruns_the_task_and_its_children(migrated: Settings) -> None:
    write_models(migrated.root, SCHEDULED)
    run(migrated)
    report = run(migrated, select=["hourly_child+"], now=utcnow() + timedelta(minutes=61))
    assert report.tasks == {"hourly_child": "success", "grandchild": "success"}
    assert report.reasons["hourly_child"] == "due: ttl of 60 min expired"
    rows = task_rows(migrated, report.run_id)
    assert [r.status for r in rows] == ["success", "success"]
