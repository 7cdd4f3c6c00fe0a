"""Date and time fields: calendar dates and moments, from ISO text or a strptime format.

A column of canonical ISO dates keeps its text beside the dates (``TextBacked``), so a loader
that writes text need not format them again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Unpack

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from ..system import MYSQL_BACKENDS
from .field_base import Field, FieldError, FieldOptions, SqlType, shown

__all__ = ["Date", "DateTime", "ISO_DATE"]

# Exactly the dates ``date.fromisoformat`` takes as YYYY-MM-DD and ``isoformat`` writes back:
# years 0001-9999, each month's days, 29 February in leap years only.
_YEAR = "(?!0000)[0-9]{4}"
_LEAP = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
ISO_DATE = (
    f"(?:{_YEAR}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    f"|{_LEAP}-02-29)"
)


class Date(Field):
    """A calendar date; ``format`` is a strptime format (default ISO, ``YYYY-MM-DD``)."""

    def __init__(self, *, format: str = "%Y-%m-%d", **options: Unpack[FieldOptions]):
        super().__init__(**options)
        self.format = format

    def sql_type(self) -> SqlType:
        return sa.Date()

    def options(self) -> dict[str, object]:
        return {"format": self.format}

    def fast(self) -> Callable[[str], object] | None:
        return dt.date.fromisoformat if self.format == "%Y-%m-%d" else None

    def _text_as_read(self, values: Sequence[str]) -> bool:
        return self.format == "%Y-%m-%d" and _canonical_dates(values)

    def plain_pattern(self) -> str | None:
        if type(self) is not Date or self.format != "%Y-%m-%d":
            return None
        return ISO_DATE

    def parse(self, value: object) -> dt.date:
        if isinstance(value, dt.datetime):
            raise FieldError(f"{shown(value)} is a date and time, not a date")
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str):
            raise FieldError(f"{shown(value)} is not a date")
        try:
            if self.format == "%Y-%m-%d":
                return dt.date.fromisoformat(value)
            return dt.datetime.strptime(value.strip(), self.format).date()
        except ValueError:
            raise FieldError(f"{shown(value)} is not a date in the format {self.format}") from None


def _canonical_dates(values: Sequence[str]) -> bool:
    """Every value is text exactly as ``date.isoformat`` writes it (after fromisoformat took it)."""
    if not values or set(map(len, values)) != {10}:
        return False
    return "W" not in "".join(values)  # 2024-W01-1 is the one other 10-character ISO form


class DateTime(Field):
    """A date and time; ``format`` is a strptime format, or None for ISO 8601.

    Times with a UTC offset are stored as naive UTC, like every time in the ledger.
    """

    def __init__(self, *, format: str | None = None, **options: Unpack[FieldOptions]):
        super().__init__(**options)
        self.format = format

    def sql_type(self) -> SqlType:
        return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *sorted(MYSQL_BACKENDS))

    def options(self) -> dict[str, object]:
        return {"format": self.format}

    def parse(self, value: object) -> dt.datetime:
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, str):
            try:
                text = value.strip()
                if self.format is None:
                    moment = dt.datetime.fromisoformat(text)
                else:
                    moment = dt.datetime.strptime(text, self.format)
            except ValueError:
                expected = self.format or "ISO 8601 (YYYY-MM-DD HH:MM:SS)"
                raise FieldError(f"{shown(value)} is not a date and time in {expected}") from None
        else:
            raise FieldError(f"{shown(value)} is not a date and time")
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return moment
