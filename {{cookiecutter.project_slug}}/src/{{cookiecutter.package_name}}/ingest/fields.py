"""Typed fields of an ingest model: each turns raw values into typed ones, or says why not.

    from <package>.ingest import fields
    id = fields.Integer(required=True); day = fields.Date(); name = fields.String(length=80)

Text, boolean and computed fields are here; number fields are in ``number_fields``, date and
time fields in ``date_fields``, their common base in ``field_base``; all are named from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Unpack

import sqlalchemy as sa

from .date_fields import Date, DateTime
from .field_base import Field, FieldError, FieldOptions, SqlType, shown
from .number_fields import Decimal, Float, Integer

__all__ = [
    "Boolean",
    "Date",
    "DateTime",
    "Decimal",
    "Field",
    "FieldError",
    "Float",
    "Integer",
    "LowercaseString",
    "Method",
    "String",
    "TitlecaseString",
    "UppercaseString",
    "required_sources",
]

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


class String(Field):
    """Text, kept as given; ``length`` bounds it (longer values are rejected, never cut)."""

    transform: ClassVar[Callable[[str], str] | None] = None

    def __init__(self, *, length: int = 255, strip: bool = False, **options: Unpack[FieldOptions]):
        super().__init__(**options)
        self.length = length
        self.strip = strip

    def sql_type(self) -> SqlType:
        return sa.String(self.length)

    def options(self) -> dict[str, object]:
        return {"length": self.length, "strip": self.strip}

    def fast(self) -> Callable[[str], object] | None:
        if self.strip:
            return _compose(str.strip, type(self).transform)
        return type(self).transform or str

    def _fast_allowed(self, values: Sequence[Any]) -> bool:
        return "" not in values  # blank text is a missing value, not an empty string

    def plain_pattern(self) -> str | None:
        if type(self) is not String or self.strip:
            return None
        # Not blank (a missing value), nothing the loaders escape, no cut-out line
        # (long_lines), none of the delimiters plain_lines takes: the text as it is.
        return rf"[^,;|\t\n\r\\\x00\ue000]{{1,{self.length}}}+"

    def _checked(self, converted: Sequence[str]) -> Sequence[str]:
        if converted and max(map(len, converted)) > self.length:
            raise FieldError("too long")
        if self.strip and "" in converted:
            raise FieldError("blank after stripping")
        return converted

    def parse(self, value: object) -> str:
        if not isinstance(value, str):
            raise FieldError(f"{shown(value)} is not text")
        text = value.strip() if self.strip else value
        transform = type(self).transform
        if transform is not None:
            text = transform(text)
        if len(text) > self.length:
            raise FieldError(f"{len(text)} characters, more than the {self.length} allowed")
        if not text and self.required:
            raise FieldError("required value is blank")
        return text


def _compose(
    first: Callable[[str], str], then: Callable[[str], str] | None
) -> Callable[[str], str]:
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


class Boolean(Field):
    """true/false, yes/no, y/n, t/f, 1/0 in any case; anything else is rejected."""

    def sql_type(self) -> SqlType:
        return sa.Boolean(create_constraint=False)

    def parse(self, value: object) -> bool:
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
        raise FieldError(f"{shown(value)} is not a boolean (true/false, yes/no, 1/0)")


class Method(Field):
    """A computed field: ``method`` names a model method ``(self, row: dict) -> value``.

    ``type`` is another field (``Integer()``, ``String(length=80)``...) that checks the
    result and gives the column type; by default the result is text.
    """

    def __init__(self, method: str, *, type: Field | None = None, **options: Unpack[FieldOptions]):
        super().__init__(**options)
        self.method = method
        self.type = type or String()

    def sql_type(self) -> SqlType:
        return self.type.sql_type()

    def options(self) -> dict[str, object]:
        return {"method": self.method, "type": type(self.type).__name__, **self.type.options()}

    def parse(self, value: object) -> object:
        self.type.name = self.name
        return self.type.convert(value)


def required_sources(fields: Sequence[Field]) -> set[str]:
    """Input columns a required field reads (a file without one of them fails)."""
    return {
        f.source
        for f in fields
        if f.required and f.default is None and not isinstance(f, Method) and f.source
    }
