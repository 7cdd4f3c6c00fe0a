"""pydwt's schedule API: ``is_scheduled(date=None)`` on every schedule, and custom schedules that
define only ``is_scheduled`` decide in our engine."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from engine_support import migrated, run, write_models

from {{ cookiecutter.package_name }}.core.schedule import (
    Cron,
    Daily,
    Monthly,
    MonthlyLastOpenDayInMonth,
    Schedule,
    SemiMonthly,
    Weekly,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import TaskState
from {{ cookiecutter.package_name }}.system import utcnow

__all__ = ["migrated"]

WEDNESDAY = datetime(2026, 11, 4, 18, 30)  # the first Wednesday of November 2026
NEXT_WEDNESDAY = datetime(2026, 11, 11, 8, 0)
MONDAY_FIRST = date(2026, 11, 2)  # a plain date, as pydwt's callers also pass


def test_daily_is_scheduled_today_without_a_date() -> None:
    assert Daily().is_scheduled() is True


@pytest.mark.parametrize(
    ("schedule", "when", "expected"),
    [
        (Weekly(weekday=2), WEDNESDAY, True),
        (Weekly(weekday=2), MONDAY_FIRST, False),
        (Weekly(weekday=0), MONDAY_FIRST, True),
        (Monthly(weekday=2), WEDNESDAY, True),
        (Monthly(weekday=2), NEXT_WEDNESDAY, False),
        (Monthly(weekday=0), MONDAY_FIRST, True),
        (Monthly(), MONDAY_FIRST + timedelta(days=7), False),
        (Cron("0 3 * * 3"), WEDNESDAY, True),  # fires at 03:00 that day, before 18:30 too
        (Cron("0 3 * * 3"), MONDAY_FIRST, False),
        (SemiMonthly(weekday=2), WEDNESDAY, True),  # the 1st Wednesday
        (SemiMonthly(weekday=2), NEXT_WEDNESDAY, False),  # the 2nd
        (SemiMonthly(weekday=2), NEXT_WEDNESDAY + timedelta(days=7), True),  # the 3rd
        (MonthlyLastOpenDayInMonth(), date(2026, 11, 27), False),  # a Friday; the 30th is Monday
        (MonthlyLastOpenDayInMonth(), date(2026, 11, 30), True),
        (MonthlyLastOpenDayInMonth(), date(2026, 10, 30), True),  # Friday; the 31st a Saturday
        (MonthlyLastOpenDayInMonth(), date(2026, 10, 31), False),
    ],
)
def test_is_scheduled_answers_for_a_date_or_datetime(schedule, when, expected: bool) -> None:
    assert schedule.is_scheduled(when) is expected


def test_weekly_is_scheduled_without_a_date_asks_about_today_in_utc() -> None:
    today = utcnow().weekday()
    assert Weekly(weekday=today).is_scheduled() is True
    assert Weekly(weekday=(today + 1) % 7).is_scheduled() is False


class EvenDays(Schedule):
    """A pydwt-style custom schedule: only ``is_scheduled`` is defined."""

    def is_scheduled(self, date=None):
        return date.day % 2 == 0


def test_a_schedule_defining_only_is_scheduled_answers_is_due() -> None:
    assert EvenDays().is_due(NEXT_WEDNESDAY - timedelta(days=1), last_success=None) is True
    assert EvenDays().is_due(NEXT_WEDNESDAY, last_success=None) is False


def test_a_schedule_defining_neither_method_says_so() -> None:
    class Nothing(Schedule):
        pass

    with pytest.raises(NotImplementedError, match="Nothing defines neither is_due nor"):
        Nothing().is_scheduled(WEDNESDAY)


CUSTOM = """
    from {{ cookiecutter.package_name }}.core.schedule import ScheduleInterface
    from {{ cookiecutter.package_name }}.core.task import Task


    class EvenDays(ScheduleInterface):
        def is_scheduled(self, date=None):
            weeks = self.calendar.monthdatescalendar(date.year, date.month)
            return date.day % 2 == 0 and any(date.date() in week for week in weeks)


    @Task(runs_on=EvenDays())
    def even_days_only():
        pass
"""


def test_the_engine_runs_a_custom_schedule_on_its_days_only(migrated: Settings) -> None:
    write_models(migrated.root, CUSTOM)
    first = run(migrated, now=NEXT_WEDNESDAY)  # never succeeded: runs whatever the day
    assert first.tasks == {"even_days_only": TaskState.SUCCESS}
    even = run(migrated, now=NEXT_WEDNESDAY + timedelta(days=1))  # the 12th is even
    assert even.tasks == {"even_days_only": TaskState.SUCCESS}
    odd = run(migrated, now=NEXT_WEDNESDAY + timedelta(days=2))  # the 13th is odd
    assert odd.tasks == {"even_days_only": TaskState.SKIPPED}
    assert odd.reasons["even_days_only"].startswith("not scheduled")
