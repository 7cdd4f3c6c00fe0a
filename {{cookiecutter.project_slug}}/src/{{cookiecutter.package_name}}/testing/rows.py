"""Comparing a task's output rows with the expected ones, and saying how they differ.

Only the columns the expectation names are compared, rows in any order. Rows are matched by a
key (given, or else the fewest leading expected columns that tell the expected rows apart), so
a wrong value reads as "key (day=2022-12-30, preds=hw): count_preds expected 2, got 1" rather
than as one missing and one extra row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["RowDiff", "diff_rows", "format_rows", "same_value"]

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    """Expected and actual values of one column of one matched row."""

    column: str
    expected: object
    actual: object


@dataclass(frozen=True)
class RowDiff:
    """What differs: expected rows not found, rows found but not expected, changed values by
    key, and expected columns the output does not have."""

    key: tuple[str, ...]
    missing: list[Row] = field(default_factory=list)
    extra: list[Row] = field(default_factory=list)
    changed: list[tuple[Row, list[Change]]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    columns: tuple[str, ...] = ()  # of the output

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.changed or self.unknown_columns)

    def __str__(self) -> str:
        lines: list[str] = []
        if self.unknown_columns:
            lines.append(
                f"the output has no column {', '.join(map(repr, self.unknown_columns))} "
                f"(it has {', '.join(self.columns) or 'no columns'})"
            )
        for key, changes in self.changed:
            shown = ", ".join(
                f"{c.column} expected {_shown(c.expected)}, got {_shown(c.actual)}" for c in changes
            )
            lines.append(f"changed: key ({_pairs(key)}): {shown}")
        lines += [f"missing: {_pairs(row)}" for row in self.missing]
        lines += [f"extra:   {_pairs(row)}" for row in self.extra]
        return "\n".join(lines)


def diff_rows(
    actual: Sequence[Row], expected: Sequence[Row], key: Sequence[str] | None = None
) -> RowDiff:
    """How ``actual`` differs from ``expected`` on the expected rows' columns (empty if equal)."""
    columns = tuple(dict.fromkeys(name for row in expected for name in row))
    present = tuple(dict.fromkeys(name for row in actual for name in row))
    unknown = [c for c in columns if actual and c not in present]
    if unknown:
        return RowDiff(tuple(key or ()), unknown_columns=unknown, columns=present)
    seen = [{c: row.get(c) for c in columns} for row in actual]
    wanted = [{c: row.get(c) for c in columns} for row in expected]
    missing, extra = _unmatched(wanted, seen)
    chosen = tuple(key) if key else _default_key(wanted, columns)
    changed, missing, extra = _pair_by_key(missing, extra, chosen)
    return RowDiff(chosen, missing, extra, changed, columns=present)


def same_value(expected: object, actual: object) -> bool:
    """Equal as a test means it: 2 == 2.0 == Decimal("2"), a date equals its ISO text (SQLite
    keeps dates as text), floats equal within 1e-9 relative, True == 1."""
    if expected is None or actual is None:
        return expected is actual
    if isinstance(expected, (dt.date, dt.datetime)) or isinstance(actual, (dt.date, dt.datetime)):
        return _as_text(expected) == _as_text(actual)
    number_e, number_a = _number(expected), _number(actual)
    if number_e is not None and number_a is not None:
        return math.isclose(number_e, number_a, rel_tol=1e-9, abs_tol=1e-12)
    return bool(expected == actual)


def format_rows(rows: Sequence[Row], limit: int = 20) -> str:
    """Rows as ``a=1, b='x'`` lines, at most ``limit`` of them."""
    lines = [f"  {_pairs(row)}" for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"  ... and {len(rows) - limit} more")
    return "\n".join(lines) or "  (no rows)"


def _unmatched(wanted: Sequence[Row], seen: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """Expected rows with no equal actual row, and actual rows with no equal expected row."""
    left = list(seen)
    missing = []
    for row in wanted:
        match = next((i for i, other in enumerate(left) if _same_row(row, other)), None)
        if match is None:
            missing.append(row)
        else:
            left.pop(match)
    return missing, left


def _pair_by_key(
    missing: list[Row], extra: list[Row], key: tuple[str, ...]
) -> tuple[list[tuple[Row, list[Change]]], list[Row], list[Row]]:
    """Missing and extra rows with the same key are one changed row."""
    if not key:
        return [], missing, extra
    changed: list[tuple[Row, list[Change]]] = []
    still_missing: list[Row] = []
    left = list(extra)
    for row in missing:
        match = next(
            (i for i, other in enumerate(left) if all(same_value(row[k], other[k]) for k in key)),
            None,
        )
        if match is None:
            still_missing.append(row)
            continue
        other = left.pop(match)
        changes = [Change(c, row[c], other[c]) for c in row if not same_value(row[c], other[c])]
        changed.append(({k: row[k] for k in key}, changes))
    return changed, still_missing, left


def _default_key(rows: Sequence[Row], columns: tuple[str, ...]) -> tuple[str, ...]:
    """The fewest leading columns whose values tell the expected rows apart (none if even all
    columns do not, or there is a single column)."""
    for size in range(1, len(columns)):
        values = Counter(tuple(_hashable(row[c]) for c in columns[:size]) for row in rows)
        if all(count == 1 for count in values.values()):
            return columns[:size]
    return ()


def _same_row(expected: Row, actual: Row) -> bool:
    return all(same_value(value, actual[c]) for c, value in expected.items())


def _number(value: object) -> float | None:
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(Decimal(value))
        except (InvalidOperation, ValueError):
            return None
    return None


def _as_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ").removesuffix(" 00:00:00")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).removesuffix(" 00:00:00").replace("T", " ")


def _hashable(value: object) -> object:
    return _as_text(value) if isinstance(value, (dt.date, dt.datetime)) else repr(value)


def _pairs(row: Row) -> str:
    return ", ".join(f"{name}={_shown(value)}" for name, value in row.items())


def _shown(value: object) -> str:
    """A value as a reader writes it: dates in ISO form, everything else as ``repr``."""
    return _as_text(value) if isinstance(value, (dt.date, dt.datetime)) else repr(value)
