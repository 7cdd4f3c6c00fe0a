"""When a task is due: ``Daily``, ``Weekly``, ``Monthly`` (as in pydwt) and ``Cron``.

The engine asks ``is_due(now, last_success)``: the runner passes ``now`` (naive UTC) and the time
of the task's last success, so tests and dry runs decide exactly like a real run. pydwt's
question, ``is_scheduled(date=None)`` ("does it run on that day?", today in UTC by default), is
answered by every schedule too, and a schedule that defines only ``is_scheduled`` (a pydwt
custom schedule) is due whenever it says so.
"""

from __future__ import annotations

from calendar import Calendar, monthrange
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, timedelta

from ..system import utcnow

__all__ = [
    "Cron",
    "Daily",
    "Monthly",
    "MonthlyLastOpenDayInMonth",
    "Schedule",
    "ScheduleInterface",
    "SemiMonthly",
    "Weekly",
]

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Schedule:
    """Base of every schedule: ``is_due(now, last_success)`` says whether the task runs.

    A subclass defines ``is_due``, ``is_scheduled`` or both; each answers through the other.
    """

    calendar = Calendar()  # pydwt's schedules carry one for month arithmetic

    def is_due(self, now: datetime, last_success: datetime | None) -> bool:
        if type(self).is_scheduled is Schedule.is_scheduled:
            raise NotImplementedError(
                f"{type(self).__name__} defines neither is_due nor is_scheduled"
            )
        return bool(self.is_scheduled(now))

    def is_scheduled(self, date: datetime | Date | None = None) -> bool:
        """Whether the task runs on ``date`` (a date or datetime; now, in UTC, when omitted)."""
        if type(self).is_due is Schedule.is_due:
            raise NotImplementedError(
                f"{type(self).__name__} defines neither is_due nor is_scheduled"
            )
        return bool(self.is_due(_moment(date), None))

    def describe(self) -> str:
        """A short human description for ``list`` and dry runs."""
        return repr(self)


# pydwt's name for the base class of schedules.
ScheduleInterface = Schedule


def _moment(date: datetime | Date | None) -> datetime:
    """A datetime for ``date``: now (naive UTC) when None, midnight for a plain date."""
    if date is None:
        return utcnow()
    if isinstance(date, datetime):
        return date
    return datetime(date.year, date.month, date.day)


def _check_weekday(weekday: int) -> None:
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")


@dataclass(frozen=True)
class Daily(Schedule):
    """Every run (pydwt's default)."""

    def is_due(self, now: datetime, last_success: datetime | None) -> bool:
        return True

    def describe(self) -> str:
        return "daily"


@dataclass(frozen=True)
class Weekly(Schedule):
    """Runs on one day of the week: ``Weekly(0)`` is Monday."""

    weekday: int = 0

    def __post_init__(self) -> None:
        _check_weekday(self.weekday)

    def is_due(self, now: datetime, last_success: datetime | None) -> bool:
        return now.weekday() == self.weekday

    def describe(self) -> str:
        return f"weekly on {_DAYS[self.weekday]}"


@dataclass(frozen=True)
class Monthly(Schedule):
    """Runs on the first given weekday of each month: ``Monthly()`` is the first Monday."""

    weekday: int = 0

    def __post_init__(self) -> None:
        _check_weekday(self.weekday)

    def is_due(self, now: datetime, last_success: datetime | None) -> bool:
        return now.weekday() == self.weekday and now.day <= 7

    def describe(self) -> str:
        return f"monthly on the first {_DAYS[self.weekday]}"


@dataclass(frozen=True)
class SemiMonthly(Schedule):
    """Runs on the first, third (and fifth) given weekday of each month, as pydwt's."""

    weekday: int = 0

    def __post_init__(self) -> None:
        _check_weekday(self.weekday)

    def is_due(self, now: datetime, last_success: datetime | None) -> bool:
        return now.weekday() == self.weekday and (now.day - 1) // 7 % 2 == 0

    def describe(self) -> str:
        return f"semi-monthly on the first and third {_DAYS[self.weekday]}"


@dataclass(frozen=True)
class MonthlyLastOpenDayInMonth(Schedule):
    """Runs on the last weekday (Monday to Friday) of each month, as pydwt's."""

    def is_due(self, now: datetime, last_success: datetime | None) -> bool:
        last = Date(now.year, now.month, monthrange(now.year, now.month)[1])
        while last.weekday() > 4:
            last -= timedelta(days=1)
        return now.date() == last

    def describe(self) -> str:
        return "monthly on the last weekday"


@dataclass(frozen=True)
class Cron(Schedule):
    """A cron expression (UTC): due when a fire time has passed since the last success.

    Runs are rarely started at the exact minute, so ``Cron("0 3 * * 1")`` is due from Monday
    03:00 until the task has succeeded once after that time.
    """

    expression: str

    def __post_init__(self) -> None:
        from croniter import croniter  # imported by the schedules that need it

        if not isinstance(self.expression, str) or not croniter.is_valid(self.expression):
            raise ValueError(
                f"invalid cron expression {self.expression!r}; use five fields, "
                "e.g. '0 3 * * 1' for Mondays at 03:00"
            )

    def is_due(self, now: datetime, last_success: datetime | None) -> bool:
        from croniter import croniter

        if last_success is None:
            return True
        previous_fire = croniter(self.expression, now).get_prev(datetime)
        return last_success < previous_fire

    def is_scheduled(self, date: datetime | Date | None = None) -> bool:
        """Whether a fire time falls on that day (UTC)."""
        from croniter import croniter

        day = _moment(date).replace(hour=0, minute=0, second=0, microsecond=0)
        first_fire = croniter(self.expression, day - timedelta(seconds=1)).get_next(datetime)
        return first_fire < day + timedelta(days=1)

    def describe(self) -> str:
        return f"cron {self.expression}"
