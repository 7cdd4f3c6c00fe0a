"""Typed fields of an ingest model: each turns raw values into typed ones, or says why not.

A field converts a whole column at once (``convert_column``): a fast path maps a builtin over
the values, and only when that fails does it go value by value to find the bad ones. Nothing
is coerced silently: a value that is not exactly what the field expects is a reject.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

__all__ = [
    "Boolean",
    "Date",
    "DateTime",
    "Decimal",
    "Field",
    "FieldError",
    "Float",
    "Integer",
    "IsoDates",
    "LowercaseString",
    "Method",
    "String",
    "TitlecaseString",
    "UppercaseString",
]

_MISSING = ("", None)
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


class FieldError(ValueError):
    """One value a field cannot take; the message is the reject's reason."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Field:
    """A typed column of the target table; ``source`` is the input column (default: its name)."""

    kind = "field"

    def __init__(self, *, required: bool = False, source: str | None = None, default: Any = None):
        self.required = required
        self.source = source
        self.default = default
        self.name = ""  # set by the model class

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if self.source is None:
            self.source = name

    # -- what subclasses give -------------------------------------------------------------
    def sql_type(self) -> sa.types.TypeEngine[Any]:
        """The column type when the ingest creates the target table."""
        raise NotImplementedError

    def parse(self, value: Any) -> Any:
        """One present value to its typed form; raises FieldError with the reason."""
        raise NotImplementedError

    def fast(self) -> Callable[[Any], Any] | None:
        """A builtin that converts a column of strings exactly like ``parse``, when one exists."""
        return None

    def options(self) -> dict[str, Any]:
        """The declaration beyond the common options (part of the model's version hash)."""
        return {}

    # -- shared ---------------------------------------------------------------------------
    def convert(self, value: Any) -> Any:
        """A raw value (None or '' is missing) to its typed form, or FieldError."""
        if value in _MISSING:
            if self.required and self.default is None:
                raise FieldError("required value is missing")
            return self.default
        return self.parse(value)

    def convert_column(
        self, values: Sequence[Any], *, texts: bool = False
    ) -> tuple[Sequence[Any], dict[int, str]]:
        """Convert a column; returns the values and {index: reason} for those that failed.

        ``texts`` says every value is a string (CSV), which saves checking their types.
        """
        fast = self.fast()
        if (
            fast is not None
            and (texts or set(map(type, values)) == {str})
            and self._fast_allowed(values)
        ):
            try:
                converted = values if fast is str else list(map(fast, values))
                return self._checked(converted), {}
            except (ValueError, TypeError, ArithmeticError, FieldError):
                pass  # some value is bad: find which, one by one
        out: list[Any] = []
        errors: dict[int, str] = {}
        for index, value in enumerate(values):
            try:
                out.append(self.convert(value))
            except FieldError as exc:
                out.append(None)
                errors[index] = f"{self.name}: {exc}"
        return out, errors

    def _checked(self, converted: Sequence[Any]) -> Sequence[Any]:
        """Post-checks of the fast path (ranges, lengths); raise to fall back to the slow one."""
        return converted

    def _fast_allowed(self, values: Sequence[Any]) -> bool:
        """Whether the fast path may try: a blank makes int(), float()... raise by themselves."""
        return True

    def declaration(self) -> str:
        """A stable text of this field's declaration, for the model's version hash."""
        options = {"required": self.required, "source": self.source, "default": self.default}
        options.update(self.options())
        shown = ", ".join(f"{key}={value!r}" for key, value in sorted(options.items()))
        return f"{self.name}={type(self).__name__}({shown})"

    def __repr__(self) -> str:
        return self.declaration()


class String(Field):
    """Text, kept as given; ``length`` bounds it (longer values are rejected, never cut)."""

    transform: Callable[[str], str] | None = None

    def __init__(self, *, length: int = 255, strip: bool = False, **options: Any):
        super().__init__(**options)
        self.length = length
        self.strip = strip

    def sql_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(self.length)

    def options(self) -> dict[str, Any]:
        return {"length": self.length, "strip": self.strip}

    def fast(self) -> Callable[[Any], Any] | None:
        if self.strip:
            return _compose(str.strip, type(self).transform)
        return type(self).transform or str

    def _fast_allowed(self, values: Sequence[Any]) -> bool:
        return "" not in values  # blank text is a missing value, not an empty string

    def _checked(self, converted: Sequence[Any]) -> Sequence[Any]:
        if converted and max(map(len, converted)) > self.length:
            raise FieldError("too long")
        if self.strip and "" in converted:
            raise FieldError("blank after stripping")
        return converted

    def parse(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise FieldError(f"{_shown(value)} is not text")
        text = value.strip() if self.strip else value
        if type(self).transform is not None:
            text = type(self).transform(text)
        if len(text) > self.length:
            raise FieldError(f"{len(text)} characters, more than the {self.length} allowed")
        if not text and self.required:
            raise FieldError("required value is blank")
        return text


def _compose(first: Callable[[str], str], then: Callable[[str], str] | None) -> Any:
    if then is None:
        return first
    return lambda text: then(first(text))


class UppercaseString(String):
    """Text in upper case."""

    transform = str.upper


class LowercaseString(String):
    """Text in lower case."""

    transform = str.lower


class TitlecaseString(String):
    """Text in title case ("ada lovelace" -> "Ada Lovelace")."""

    transform = str.title


class Integer(Field):
    """A whole number; text as Python's ``int()`` reads it, floats only when integral."""

    def __init__(self, *, big: bool = False, **options: Any):
        super().__init__(**options)
        self.big = big

    def sql_type(self) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger() if self.big else sa.Integer()

    def options(self) -> dict[str, Any]:
        return {"big": self.big}

    def fast(self) -> Callable[[Any], Any] | None:
        return int

    def _checked(self, converted: Sequence[Any]) -> Sequence[Any]:
        limit = 2**63 if self.big else 2**31
        if converted and (max(converted) >= limit or min(converted) < -limit):
            raise FieldError("out of range")
        return converted

    def parse(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise FieldError(f"{_shown(value)} is a boolean, not a whole number")
        if isinstance(value, float):
            if not value.is_integer():
                raise FieldError(f"{_shown(value)} is not a whole number")
            value = int(value)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise FieldError(f"{_shown(value)} is not a whole number") from None
        limit = 2**63 if self.big else 2**31
        if not -limit <= number < limit:
            raise FieldError(
                f"{number} is out of range for a {'64' if self.big else '32'}-bit column"
            )
        return number


class Float(Field):
    """A finite floating-point number (NaN and infinity are rejected)."""

    def sql_type(self) -> sa.types.TypeEngine[Any]:
        return sa.Double()

    def fast(self) -> Callable[[Any], Any] | None:
        return float

    def _checked(self, converted: Sequence[Any]) -> Sequence[Any]:
        if not all(map(math.isfinite, converted)):
            raise FieldError("not finite")
        return converted

    def parse(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise FieldError(f"{_shown(value)} is a boolean, not a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise FieldError(f"{_shown(value)} is not a number") from None
        if not math.isfinite(number):
            raise FieldError(f"{_shown(value)} is not a finite number")
        return number


class Decimal(Field):
    """An exact decimal with at most ``scale`` places (more places are rejected, not rounded)."""

    def __init__(self, *, precision: int = 18, scale: int = 6, **options: Any):
        super().__init__(**options)
        self.precision = precision
        self.scale = scale

    def sql_type(self) -> sa.types.TypeEngine[Any]:
        return sa.Numeric(self.precision, self.scale)

    def options(self) -> dict[str, Any]:
        return {"precision": self.precision, "scale": self.scale}

    def parse(self, value: Any) -> Any:
        if isinstance(value, (bool, float)):
            raise FieldError(f"{_shown(value)} is not an exact decimal; give it as text")
        try:
            number = decimal.Decimal(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError, decimal.InvalidOperation):
            raise FieldError(f"{_shown(value)} is not a decimal number") from None
        if not number.is_finite():
            raise FieldError(f"{_shown(value)} is not a finite number")
        sign, digits, exponent = number.as_tuple()
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if places > self.scale:
            raise FieldError(f"{_shown(value)} has {places} decimal places; at most {self.scale}")
        if len(digits) - places > self.precision - self.scale:
            raise FieldError(
                f"{_shown(value)} has too many digits for ({self.precision}, {self.scale})"
            )
        return number


class Boolean(Field):
    """true/false, yes/no, y/n, t/f, 1/0 in any case; anything else is rejected."""

    def sql_type(self) -> sa.types.TypeEngine[Any]:
        return sa.Boolean(create_constraint=False)

    def parse(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        raise FieldError(f"{_shown(value)} is not a boolean (true/false, yes/no, 1/0)")


class Date(Field):
    """A calendar date; ``format`` is a strptime format (default ISO, ``YYYY-MM-DD``)."""

    def __init__(self, *, format: str = "%Y-%m-%d", **options: Any):
        super().__init__(**options)
        self.format = format

    def sql_type(self) -> sa.types.TypeEngine[Any]:
        return sa.Date()

    def options(self) -> dict[str, Any]:
        return {"format": self.format}

    def fast(self) -> Callable[[Any], Any] | None:
        return dt.date.fromisoformat if self.format == "%Y-%m-%d" else None

    def convert_column(
        self, values: Sequence[Any], *, texts: bool = False
    ) -> tuple[Sequence[Any], dict[int, str]]:
        converted, errors = super().convert_column(values, texts=texts)
        if not errors and converted is not values and _canonical_dates(values, texts):
            return IsoDates(converted, values), errors
        return converted, errors

    def parse(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            raise FieldError(f"{_shown(value)} is a date and time, not a date")
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str):
            raise FieldError(f"{_shown(value)} is not a date")
        try:
            if self.format == "%Y-%m-%d":
                return dt.date.fromisoformat(value)
            return dt.datetime.strptime(value.strip(), self.format).date()
        except ValueError:
            raise FieldError(f"{_shown(value)} is not a date in the format {self.format}") from None


class IsoDates(list):  # type: ignore[type-arg]
    """Dates that keep the ``YYYY-MM-DD`` text they were read from.

    A loader that needs text (SQLite, LOAD DATA) uses ``iso`` instead of formatting a million
    dates again. Any change to the column builds a plain list, which drops the text.
    """

    def __init__(self, dates: Sequence[dt.date], iso: Sequence[str]):
        super().__init__(dates)
        self.iso = iso


def _canonical_dates(values: Sequence[Any], texts: bool) -> bool:
    """Every value is text exactly as ``date.isoformat`` writes it (after fromisoformat took it)."""
    if not values or not (texts or set(map(type, values)) == {str}):
        return False
    if set(map(len, values)) != {10}:
        return False
    return "W" not in "".join(values)  # 2024-W01-1 is the one other 10-character ISO form


class DateTime(Field):
    """A date and time; ``format`` is a strptime format, or None for ISO 8601.

    Times with a UTC offset are stored as naive UTC, like every time in the ledger.
    """

    def __init__(self, *, format: str | None = None, **options: Any):
        super().__init__(**options)
        self.format = format

    def sql_type(self) -> sa.types.TypeEngine[Any]:
        return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

    def options(self) -> dict[str, Any]:
        return {"format": self.format}

    def parse(self, value: Any) -> Any:
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
                shown = self.format or "ISO 8601 (YYYY-MM-DD HH:MM:SS)"
                raise FieldError(f"{_shown(value)} is not a date and time in {shown}") from None
        else:
            raise FieldError(f"{_shown(value)} is not a date and time")
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return moment


class Method(Field):
    """A computed field: ``method`` names a model method ``(self, row: dict) -> value``.

    ``type`` is another field (``Integer()``, ``String(length=80)``...) that checks the
    result and gives the column type; by default the result is text.
    """

    def __init__(self, method: str, *, type: Field | None = None, **options: Any):
        super().__init__(**options)
        self.method = method
        self.type = type or String()

    def sql_type(self) -> sa.types.TypeEngine[Any]:
        return self.type.sql_type()

    def options(self) -> dict[str, Any]:
        return {"method": self.method, "type": type(self.type).__name__, **self.type.options()}

    def parse(self, value: Any) -> Any:
        self.type.name = self.name
        return self.type.convert(value)
