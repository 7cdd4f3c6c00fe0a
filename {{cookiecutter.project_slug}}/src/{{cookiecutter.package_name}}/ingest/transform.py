"""The transform stage for one batch: field conversions column by column, rejects with reasons.

A row is rejected when any of its fields fails; its reject names the first failing field and
gives every reason. Computed fields and ``@post_transform`` hooks see rows as dicts, and only
models that have them pay for building those dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .batches import Batch, Refused
from .fields import Field, FieldError, Method

if TYPE_CHECKING:
    from .model import IngestModel

__all__ = ["Transformed", "transform_batch"]

# The fields a row failed, by the row's index in its batch: [(field, reason), ...].
Problems = dict[int, list[tuple[str, str]]]


@dataclass
class Transformed:
    """The good rows of a batch as columns (in field order) and every refused record."""

    columns: list[Sequence[Any]]
    refused: list[Refused]


def transform_batch(
    instance: IngestModel,
    fields: Sequence[Field],
    batch: Batch,
    render: Callable[[object], str],
    hooks: Sequence[Callable[..., object]] = (),
) -> Transformed:
    """Convert a batch; rows that fail any field go to ``refused`` with their reasons."""
    plain = [f for f in fields if not isinstance(f, Method)]
    columns: dict[str, Sequence[Any]] = {}
    problems: Problems = {}
    for fld, raw_column in zip(plain, batch.columns):
        values, errors = fld.convert_column(raw_column, texts=batch.texts)
        columns[fld.name] = values
        for index, reason in errors.items():
            problems.setdefault(index, []).append((fld.name, reason))
    keep = _kept(len(batch.records), problems)
    if keep is not None:
        columns = {name: [values[i] for i in keep] for name, values in columns.items()}
    refused = [_refused(batch, index, found, render) for index, found in sorted(problems.items())]
    computed = [f for f in fields if isinstance(f, Method)]
    if computed or hooks:
        positions = keep if keep is not None else range(len(batch.records))
        columns, late = _by_rows(instance, fields, columns, computed, hooks)
        refused += [_refused(batch, positions[i], found, render) for i, found in late.items()]
    refused = sorted(refused + batch.refused, key=lambda item: item.record)
    return Transformed([columns[f.name] for f in fields], refused)


def _kept(count: int, problems: Problems) -> list[int] | None:
    if not problems:
        return None
    return [i for i in range(count) if i not in problems]


def _refused(
    batch: Batch, index: int, found: list[tuple[str, str]], render: Callable[[object], str]
) -> Refused:
    return Refused(
        record=batch.records[index],
        line=batch.lines[index],
        field=found[0][0],
        reason="; ".join(reason for _, reason in found),
        raw=render(batch.raws[index]),
    )


def _by_rows(
    instance: IngestModel,
    fields: Sequence[Field],
    columns: dict[str, Sequence[Any]],
    computed: Sequence[Method],
    hooks: Sequence[Callable[..., object]],
) -> tuple[dict[str, Sequence[Any]], Problems]:
    """Computed fields and post-transform hooks, row by row as dicts."""
    names = list(columns)
    rows = [dict(zip(names, values)) for values in zip(*columns.values())] if names else []
    problems: dict[int, list[tuple[str, str]]] = {}
    for index, row in enumerate(rows):
        for fld in computed:
            try:
                row[fld.name] = fld.convert(getattr(instance, fld.method)(dict(row)))
            except FieldError as exc:
                problems.setdefault(index, []).append((fld.name, f"{fld.name}: {exc}"))
            except Exception as exc:  # user code: the row is rejected with the error
                reason = f"{fld.name}: {fld.method}() raised {type(exc).__name__}: {exc}"
                problems.setdefault(index, []).append((fld.name, reason))
    good = [row for index, row in enumerate(rows) if index not in problems]
    for hook in hooks:
        hook(good)
    out: dict[str, Sequence[Any]] = {f.name: [row.get(f.name) for row in good] for f in fields}
    return out, problems
