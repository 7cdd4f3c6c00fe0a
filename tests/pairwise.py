"""A small, deterministic all-pairs cover: every value of every option meets every value of
every other option in at least one row, with far fewer rows than the full product."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

Row = dict[str, Any]


def all_pairs(params: Sequence[tuple[str, Sequence[Any]]]) -> set[tuple[str, Any, str, Any]]:
    """Every (option, value, other option, other value) pair a cover must contain."""
    return {
        (a, va, b, vb)
        for (a, values_a), (b, values_b) in combinations(params, 2)
        for va in values_a
        for vb in values_b
    }


def covered_by(row: Row, names: Sequence[str]) -> set[tuple[str, Any, str, Any]]:
    return {(a, row[a], b, row[b]) for a, b in combinations(names, 2)}


def pairwise(params: Sequence[tuple[str, Sequence[Any]]]) -> list[Row]:
    """Greedy cover: each row starts from the first uncovered pair and fills the other options
    with the value that covers the most new pairs (ties go to the earlier value)."""
    names = [name for name, _ in params]
    values = {name: list(options) for name, options in params}
    order = {pair: i for i, pair in enumerate(sorted(all_pairs(params), key=repr))}
    uncovered = set(order)
    rows: list[Row] = []
    while uncovered:
        a, va, b, vb = min(uncovered, key=order.__getitem__)
        row: Row = {a: va, b: vb}
        for name in names:
            if name in row:
                continue

            def gain(value: Any, name: str = name) -> tuple[int, int]:
                trial = {**row, name: value}
                known = [n for n in names if n in trial]
                return len(covered_by(trial, known) & uncovered), -values[name].index(value)

            row[name] = max(values[name], key=gain)
        row = {name: row[name] for name in names}
        uncovered -= covered_by(row, names)
        rows.append(row)
    return rows
