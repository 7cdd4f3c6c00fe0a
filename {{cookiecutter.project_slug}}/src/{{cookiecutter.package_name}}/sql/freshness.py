"""The ``freshness`` check: is the newest value of a time column recent enough?

``freshness("loaded_at", warn_after="1d", error_after="3d")`` warns when the newest
``loaded_at`` is more than a day old and fails past three days (an empty table is stale). Times
are compared with the project's clock, as naive UTC, the way the ledgers store them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar

from sqlalchemy import Connection, Engine, MetaData, Table, func, select
from sqlalchemy.exc import DBAPIError, NoSuchTableError

from ..errors import SQLLayerError
from ..source_settings import format_duration, parse_duration
from ..status import CheckStatus, Severity
from ..system import first_line, utcnow
from .checks import _FACTORIES, Check, CheckOutcome, _connection

__all__ = ["freshness"]


@dataclass(frozen=True, kw_only=True)
class _Freshness(Check):
    column: str
    warn_after: timedelta | None = None
    error_after: timedelta | None = None
    kind: ClassVar[str] = "freshness"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def _arguments(self) -> list[str]:
        bounds = (("warn_after", self.warn_after), ("error_after", self.error_after))
        return [self.column, *(f"{k}={format_duration(v)}" for k, v in bounds if v is not None)]

    def run(
        self,
        bind: Engine | Connection,
        *,
        default_table: str,
        schema: str | None = None,
        reading: Mapping[str, str] | None = None,
    ) -> CheckOutcome:
        """The age of the newest value against the bounds; problems become an error outcome.

        ``bind`` and ``reading`` as for every check (a build audited before it is published)."""
        target_name = self.table or default_table
        physical = (reading or {}).get(target_name, target_name)
        try:
            with _connection(bind) as conn:
                target = Table(physical, MetaData(), schema=schema, autoload_with=conn)
                self._require(target, name=target_name)
                newest = _as_utc(conn.scalar(select(func.max(target.c[self.column]))))
        except NoSuchTableError:
            return self._error(f"table {target_name!r} does not exist")
        except (SQLLayerError, DBAPIError) as exc:
            return self._error(first_line(exc))
        except ValueError as exc:
            return self._error(f"{self.name}: {exc}")
        age = None if newest is None else utcnow() - newest
        status, severity = self._judge(age)
        if status == CheckStatus.PASS:
            return CheckOutcome(self.name, severity, status, 0)
        sample = json.dumps(
            [{"newest": newest, "age": _shown_age(age), "now": utcnow()}], default=str
        )
        detail = "no rows" if age is None else f"newest {_shown_age(age)} old"
        return CheckOutcome(self.name, severity, status, 1, sample, detail)

    def _judge(self, age: timedelta | None) -> tuple[CheckStatus, Severity]:
        """Past ``error_after`` fails, past ``warn_after`` warns (no value at all is stale)."""
        if self.error_after is not None and (age is None or age > self.error_after):
            return CheckStatus.FAIL, Severity.ERROR
        if self.warn_after is not None and (age is None or age > self.warn_after):
            return CheckStatus.WARN, Severity.WARN
        return CheckStatus.PASS, self.severity


def _as_utc(value: object) -> datetime | None:
    """The column's newest value as naive UTC (a date counts from its midnight)."""
    if value is None or isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"the newest value {value!r} is not a date or a time") from None
    else:
        raise ValueError(f"the newest value {value!r} is not a date or a time")
    if moment is not None and moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _shown_age(age: timedelta | None) -> str:
    if age is None:
        return "no rows"
    hours = age.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def freshness(
    column: str,
    *,
    warn_after: str | timedelta | None = None,
    error_after: str | timedelta | None = None,
    table: str | None = None,
) -> Check:
    """The newest ``column`` value is at most ``warn_after`` old (else warn) and at most
    ``error_after`` old (else fail); durations are ``30m``, ``12h``, ``2d`` or timedeltas."""
    if not isinstance(column, str) or not column:
        raise SQLLayerError(f"freshness() needs a column name, got {column!r}")
    if warn_after is None and error_after is None:
        raise SQLLayerError("freshness() needs warn_after=, error_after= or both")
    try:
        warn = None if warn_after is None else parse_duration(warn_after)
        error = None if error_after is None else parse_duration(error_after)
    except ValueError as exc:
        raise SQLLayerError(f"freshness({column}): {exc}") from None
    if warn is not None and error is not None and warn > error:
        raise SQLLayerError(f"freshness({column}): warn_after is longer than error_after")
    severity = Severity.ERROR if error is not None else Severity.WARN
    return _Freshness(
        column=column, warn_after=warn, error_after=error, severity=severity, table=table
    )


# settings.yml's ``- freshness: {column: loaded_at, warn_after: 1d}`` (the sql package imports
# this module, so the name is known wherever checks are read)
_FACTORIES["freshness"] = freshness
