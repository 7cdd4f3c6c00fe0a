"""Result rows that read like Spark's (``row.col``, ``row["col"]``, ``row[0]``) and ``show``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["Row", "format_table"]


class Row(tuple[Any, ...]):
    """One result row: a tuple whose values are also reachable by column name."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    @classmethod
    def make_type(cls, fields: Sequence[str]) -> type[Row]:
        """A Row subclass that knows these column names."""
        return type("Row", (cls,), {"__slots__": (), "_fields": tuple(fields)})

    def __getitem__(self, key: str | int | slice) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._fields.index(key))
            except ValueError:
                raise KeyError(key) from None
        return tuple.__getitem__(self, key)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name not in self._fields:
            raise AttributeError(f"Row has no column {name!r}; its columns are {self._fields}")
        return tuple.__getitem__(self, self._fields.index(name))

    def keys(self) -> list[str]:
        """Column names, so that ``dict(row)`` works."""
        return list(self._fields)

    def get(self, key: str, default: object = None) -> Any:
        """The value of a column, or ``default`` when the row has no such column."""
        return self[key] if key in self._fields else default

    def as_dict(self) -> dict[str, Any]:
        """The row as a plain dict (the last value wins for repeated names)."""
        return dict(zip(self._fields, self))

    asDict = as_dict  # Spark's spelling

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"Row({inner})"

    def __reduce__(self) -> tuple[Callable[..., Row], tuple[tuple[str, ...], tuple[object, ...]]]:
        return (_rebuild_row, (self._fields, tuple(self)))


def _rebuild_row(fields: tuple[str, ...], values: tuple[object, ...]) -> Row:
    return Row.make_type(fields)(values)


def _cell(value: object, truncate: int) -> str:
    text = "NULL" if value is None else str(value)
    if truncate and len(text) > truncate:
        return text[: max(truncate - 3, 0)] + "..."
    return text


def format_table(
    names: Sequence[str], rows: Sequence[Sequence[object]], limit: int, truncate: int = 20
) -> str:
    """Spark's ``show`` layout: a boxed, right-aligned grid, with a note when rows were cut."""
    shown = [[_cell(v, truncate) for v in row] for row in rows[:limit]]
    widths = [max(3, len(name)) for name in names]  # Spark's minimum column width
    for row in shown:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
    rule = "+" + "+".join("-" * w for w in widths) + "+"
    lines = [rule, "|" + "|".join(n.rjust(w) for n, w in zip(names, widths)) + "|", rule]
    lines += ["|" + "|".join(c.rjust(w) for c, w in zip(row, widths)) + "|" for row in shown]
    lines.append(rule)
    if len(rows) > limit:
        lines.append(f"only showing top {limit} row{'s' if limit != 1 else ''}")
    return "\n".join(lines)


def iter_rows(names: Sequence[str], raw: Iterator[Sequence[object]]) -> Iterator[Row]:
    """Wrap raw DB-API tuples as Rows sharing one Row type."""
    row_type = Row.make_type(names)
    for values in raw:
        yield row_type(values)
