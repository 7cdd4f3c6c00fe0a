"""Chunks as tab-separated text lines, the input both bulk loaders read: MySQL's ``LOAD DATA``
and PostgreSQL's ``COPY ... FROM STDIN`` (text format).

Both take ``\\N`` for NULL and backslash escapes for backslash, tab, newline and carriage
return, so one line holds one row whatever its strings contain. A column is formatted at once
(``map(str, ...)`` runs at C speed); only columns with NULLs or mixed types go value by value.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from itertools import repeat
from typing import Any

from .field_base import TextBacked

__all__ = ["text_lines"]

# Types whose ``str()`` is the text both servers read back as the same value (a float's repr
# round-trips).
_AS_STR = frozenset({int, float, decimal.Decimal, dt.date})
_SPECIAL = ("\\", "\t", "\n", "\r", "\0")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def text_lines(columns: Sequence[Sequence[Any]], object_id: str | None, count: int) -> str:
    """``count`` rows (columns in field order, then the object id unless it is None: LOAD
    DATA sets that column itself), one line each."""
    texts = [_column_text(column) for column in columns]
    if object_id is not None:
        texts.append(repeat(object_id, count))  # type: ignore[arg-type]
    return "\n".join(map("\t".join, zip(*texts))) + "\n"


def _column_text(values: Sequence[Any]) -> Sequence[str]:
    if isinstance(values, TextBacked):
        return values.text
    kinds = set(map(type, values))
    if kinds == {str}:
        joined = "".join(values)
        if not any(special in joined for special in _SPECIAL):
            return values
        return [value.translate(_ESCAPES) for value in values]
    if kinds == {dt.datetime}:
        return [value.isoformat(" ") for value in values]
    if len(kinds) == 1 and kinds <= _AS_STR:
        return list(map(str, values))
    return [_one_text(value) for value in values]  # NULLs, booleans, mixed or other types


def _one_text(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    return str(value)
