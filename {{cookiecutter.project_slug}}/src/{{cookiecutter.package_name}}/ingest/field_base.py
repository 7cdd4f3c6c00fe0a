"""The base of an ingest model's typed fields: one raw column in, typed values and reasons out.

A field converts a whole column at once (``convert_column``): a fast path maps a builtin over
the values, and only when that fails does it go value by value to find the bad ones. Nothing
is coerced silently: a value that is not exactly what the field expects is a reject.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypedDict

import sqlalchemy as sa

__all__ = ["Field", "FieldError", "FieldOptions", "SqlType", "TextBacked", "shown"]

SqlType = sa.types.TypeEngine[Any]  # the column type a field creates


class FieldOptions(TypedDict, total=False):
    """The options every field takes (see :class:`Field`)."""

    required: bool
    source: str | None
    default: object


_MISSING = ("", None)


class FieldError(ValueError):
    """One value a field cannot take; the message is the reject's reason."""


class TextBacked(list):  # type: ignore[type-arg]
    """Typed values that keep the text they were read from, because that text is what a bulk
    loader's server reads back as the same values: the loader (SQLite's dates, LOAD DATA,
    COPY) sends it instead of formatting a million values again. Any change to the column
    builds a plain list, which drops the text."""

    def __init__(self, values: Sequence[object], text: Sequence[str]):
        super().__init__(values)
        self.text = text


def shown(value: object) -> str:
    """A value as a reject's reason quotes it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Field:
    """A typed column of the target table; ``source`` is the input column (default: its name)."""

    kind = "field"

    def __init__(
        self, *, required: bool = False, source: str | None = None, default: object = None
    ):
        self.required = required
        self.source = source
        self.default = default
        self.name = ""  # set by the model class

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if self.source is None:
            self.source = name

    # -- what subclasses give -------------------------------------------------------------
    def sql_type(self) -> SqlType:
        """The column type when the ingest creates the target table."""
        raise NotImplementedError

    def parse(self, value: object) -> object:
        """One present value to its typed form; raises FieldError with the reason."""
        raise NotImplementedError

    def fast(self) -> Callable[[str], object] | None:
        """A builtin that converts a column of strings exactly like ``parse``, when one exists."""
        return None

    def options(self) -> dict[str, object]:
        """The declaration beyond the common options (part of the model's version hash)."""
        return {}

    def plain_pattern(self) -> str | None:
        """A regular expression matching only non-blank texts that this field takes unchanged
        and that every server reads back as the same value, so that a bulk loader may send
        them as they are (``plain_lines``); None when there is none. It never matches a
        delimiter, tab, line break, backslash or NUL."""
        return None

    # -- shared ---------------------------------------------------------------------------
    def convert(self, value: object) -> object:
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
                checked = self._checked(converted)
            except (ValueError, TypeError, ArithmeticError, FieldError):
                pass  # some value is bad: find which, one by one
            else:
                if checked is not values and self._text_as_read(values):
                    return TextBacked(checked, values), {}
                return checked, {}
        out: list[object] = []
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

    def _text_as_read(self, values: Sequence[str]) -> bool:
        """Whether the strings the fast path converted are what the servers read back as the
        same values (then the column keeps them: ``TextBacked``)."""
        return False

    def _fast_allowed(self, values: Sequence[object]) -> bool:
        """Whether the fast path may try: a blank makes int(), float()... raise by themselves."""
        return True

    def declaration(self) -> str:
        """A stable text of this field's declaration, for the model's version hash."""
        options = {"required": self.required, "source": self.source, "default": self.default}
        options.update(self.options())
        listed = ", ".join(f"{key}={value!r}" for key, value in sorted(options.items()))
        return f"{self.name}={type(self).__name__}({listed})"

    def __repr__(self) -> str:
        return self.declaration()
