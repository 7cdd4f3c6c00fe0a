"""settings.yml's ``sources:`` block: tables the pipeline reads but does not build.

    sources:
      raw_matches:
        checks: [{not_null: [id]}]
        freshness: {column: loaded_at, warn_after: 1d, error_after: 3d}

Durations are a number and a unit: ``30m``, ``12h``, ``2d`` (also ``s`` and ``w``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = ["Duration", "FreshnessSettings", "SourceSettings", "format_duration", "parse_duration"]

_DURATION = re.compile(r"\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw])\s*")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: object) -> timedelta:
    """``30m``, ``12h``, ``2d`` (also ``s`` and ``w``) or a ``timedelta``, as a ``timedelta``."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f"{value!r} is not a duration; write a number and a unit: 30m, 12h, 2d (s, m, h, d, w)"
        )
    return timedelta(**{_UNITS[match["unit"]]: float(match["amount"])})


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def format_duration(value: timedelta) -> str:
    """The shortest spelling ``parse_duration`` reads back: ``1d``, ``36h``, ``90s``."""
    seconds = value.total_seconds()
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


class FreshnessSettings(BaseModel):
    """How old the newest ``column`` value may be: older than a bound warns or fails."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    warn_after: Duration | None = None
    error_after: Duration | None = None

    @model_validator(mode="after")
    def _bounds(self) -> FreshnessSettings:
        if self.warn_after is None and self.error_after is None:
            raise ValueError("give warn_after, error_after or both (e.g. warn_after: 1d)")
        if self.warn_after and self.error_after and self.warn_after > self.error_after:
            raise ValueError("warn_after is longer than error_after; warn first, then fail")
        return self


class SourceSettings(BaseModel):
    """A table the pipeline reads but does not build (``table`` defaults to the source's name),
    with the checks it must pass before the tasks that read it run."""

    table: str
    schema_: str | None = Field(default=None, alias="schema")
    checks: list[Any] = Field(default_factory=list)
    freshness: FreshnessSettings | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
