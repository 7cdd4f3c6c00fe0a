"""Number fields: whole numbers, floating-point numbers and exact decimals.

Each reads text exactly as Python's own constructor does (``int()``, ``float()``,
``decimal.Decimal``) and rejects what does not fit the column: out of range, not finite,
too many places.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Callable, Sequence
from typing import SupportsFloat, SupportsIndex, SupportsInt, Unpack

import sqlalchemy as sa

from .field_base import Field, FieldError, FieldOptions, SqlType, shown

__all__ = ["Decimal", "Float", "Integer"]

# Numbers as every server reads them back: ASCII digits, sign and point only (no blanks,
# underscores, exponents or other scripts' digits, which Python's int() and float() also take).
# At most 300 characters: a plain decimal that short never underflows to zero, which PostgreSQL
# refuses. One value a line, so one pass checks the characters and the length of a column.
_PLAIN = re.compile(r"(?:[0-9.+\-]{0,300}+\n)*+")


def _int(value: object) -> int:
    """``int(value)`` of what int() takes; TypeError for anything else, as int() raises."""
    if isinstance(value, (str, bytes, bytearray, SupportsInt, SupportsIndex)):
        return int(value)
    raise TypeError(f"int() cannot take {type(value).__name__}")


def _float(value: object) -> float:
    """``float(value)`` of what float() takes; TypeError for anything else."""
    if isinstance(value, (str, bytes, bytearray, SupportsFloat, SupportsIndex)):
        return float(value)
    raise TypeError(f"float() cannot take {type(value).__name__}")


def _decimal(value: object) -> decimal.Decimal:
    """An exact decimal of text (stripped), a whole number or a decimal; TypeError else."""
    if isinstance(value, str):
        return decimal.Decimal(value.strip())
    if isinstance(value, (int, decimal.Decimal)):
        return decimal.Decimal(value)
    if isinstance(value, tuple):  # (sign, digits, exponent), as Decimal.as_tuple() gives
        return decimal.Decimal(value)
    raise TypeError(f"Decimal() cannot take {type(value).__name__}")


def _plain(values: Sequence[str]) -> bool:
    """Whether the texts int() or float() took are plain numbers, to be sent as they are."""
    return _PLAIN.fullmatch("\n".join(values) + "\n" if values else "") is not None


class Integer(Field):
    """A whole number; text as Python's ``int()`` reads it, floats only when integral."""

    def __init__(self, *, big: bool = False, **options: Unpack[FieldOptions]):
        super().__init__(**options)
        self.big = big

    def sql_type(self) -> SqlType:
        return sa.BigInteger() if self.big else sa.Integer()

    def options(self) -> dict[str, object]:
        return {"big": self.big}

    def fast(self) -> Callable[[str], object] | None:
        return int

    def plain_pattern(self) -> str | None:
        if type(self) is not Integer:
            return None  # a subclass may check more than the range
        return "-?+[0-9]{1,18}+" if self.big else "-?+[0-9]{1,9}+"  # in range by length

    def _text_as_read(self, values: Sequence[str]) -> bool:
        return _plain(values)

    def _checked(self, converted: Sequence[int]) -> Sequence[int]:
        limit = 2**63 if self.big else 2**31
        if converted and (max(converted) >= limit or min(converted) < -limit):
            raise FieldError("out of range")
        return converted

    def parse(self, value: object) -> int:
        if isinstance(value, bool):
            raise FieldError(f"{shown(value)} is a boolean, not a whole number")
        if isinstance(value, float):
            if not value.is_integer():
                raise FieldError(f"{shown(value)} is not a whole number")
            value = int(value)
        try:
            number = _int(value)
        except (TypeError, ValueError):
            raise FieldError(f"{shown(value)} is not a whole number") from None
        limit = 2**63 if self.big else 2**31
        if not -limit <= number < limit:
            raise FieldError(
                f"{number} is out of range for a {'64' if self.big else '32'}-bit column"
            )
        return number


class Float(Field):
    """A finite floating-point number (NaN and infinity are rejected)."""

    def sql_type(self) -> SqlType:
        return sa.Double()

    def fast(self) -> Callable[[str], object] | None:
        return float

    def plain_pattern(self) -> str | None:
        # Finite, and short enough not to underflow (see _PLAIN).
        return r"-?+[0-9]{1,100}+(?:\.[0-9]{1,100}+)?+" if type(self) is Float else None

    def _text_as_read(self, values: Sequence[str]) -> bool:
        return _plain(values)

    def _checked(self, converted: Sequence[float]) -> Sequence[float]:
        if not all(map(math.isfinite, converted)):
            raise FieldError("not finite")
        return converted

    def parse(self, value: object) -> float:
        if isinstance(value, bool):
            raise FieldError(f"{shown(value)} is a boolean, not a number")
        try:
            number = _float(value)
        except (TypeError, ValueError):
            raise FieldError(f"{shown(value)} is not a number") from None
        if not math.isfinite(number):
            raise FieldError(f"{shown(value)} is not a finite number")
        return number


class Decimal(Field):
    """An exact decimal with at most ``scale`` places (more places are rejected, not rounded)."""

    def __init__(self, *, precision: int = 18, scale: int = 6, **options: Unpack[FieldOptions]):
        super().__init__(**options)
        self.precision = precision
        self.scale = scale

    def sql_type(self) -> SqlType:
        return sa.Numeric(self.precision, self.scale)

    def options(self) -> dict[str, object]:
        return {"precision": self.precision, "scale": self.scale}

    def parse(self, value: object) -> decimal.Decimal:
        if isinstance(value, (bool, float)):
            raise FieldError(f"{shown(value)} is not an exact decimal; give it as text")
        try:
            number = _decimal(value)
        except (TypeError, ValueError, decimal.InvalidOperation):
            raise FieldError(f"{shown(value)} is not a decimal number") from None
        if not number.is_finite():
            raise FieldError(f"{shown(value)} is not a finite number")
        sign, digits, exponent = number.as_tuple()
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if places > self.scale:
            raise FieldError(f"{shown(value)} has {places} decimal places; at most {self.scale}")
        if len(digits) - places > self.precision - self.scale:
            raise FieldError(
                f"{shown(value)} has too many digits for ({self.precision}, {self.scale})"
            )
        return number
