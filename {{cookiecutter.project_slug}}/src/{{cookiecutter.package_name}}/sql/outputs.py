"""The hook the engine calls after a task returns: materialize its DataFrame, run its checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .checks import Check, CheckOutcome, checks_from_config
from .dataframe import DataFrame
from .session import Session

__all__ = ["CheckOutcome", "OutputResult", "handle_output", "output_fingerprint"]


@dataclass(frozen=True)
class OutputResult:
    """What a task's output did: rows written (None when nothing was materialized) and checks."""

    rows_affected: int | None
    checks: list[CheckOutcome] = field(default_factory=list)
    failed: bool = False


def output_fingerprint(result: object) -> str | None:
    """The compiled SQL of a returned DataFrame (it joins the task's fingerprint), else None."""
    if isinstance(result, DataFrame):
        return result.sql()
    return None


def handle_output(
    result: object,
    *,
    task_name: str,
    task_config: Mapping[str, Any],
    checks: Sequence[Check],
    session: Session,
) -> OutputResult:
    """Materialize a returned DataFrame under the task's name, then run every check.

    The form comes from ``task_config["materialize"]`` (table by default); ``unique_key`` and
    ``indexes`` there are passed on. Any other result that carries an int ``rows_affected``
    (an ingest run) reports that. Checks target the task's table unless they name another.
    """
    rows = _rows_written(result, task_name, task_config, session)
    every = [
        *checks,
        *checks_from_config(task_config.get("checks"), where=f"tasks.{task_name}.checks"),
    ]
    outcomes = [
        check.run(session.engine, default_table=task_name, schema=session.schema) for check in every
    ]
    return OutputResult(rows, outcomes, any(o.failed for o in outcomes))


def _rows_written(
    result: object, task_name: str, task_config: Mapping[str, Any], session: Session
) -> int | None:
    """Materialize a returned DataFrame; a result with an int ``rows_affected`` reports it."""
    if isinstance(result, DataFrame):
        return result.materialize(
            task_name,
            as_=task_config.get("materialize") or "table",
            unique_key=task_config.get("unique_key"),
            indexes=task_config.get("indexes"),
            schema=session.schema,
        )
    rows = getattr(result, "rows_affected", None)  # e.g. an ingest result: the rows it loaded
    return rows if isinstance(rows, int) else None
