"""The hook the engine calls after a task returns: materialize its DataFrame, run its checks.

A returned DataFrame is audited before it is published: its checks run against the built
shadow and a refused build never replaces the table (see ``audit.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .audit import Audit
from .checks import Check, CheckOutcome, checks_from_config
from .dataframe import DataFrame
from .session import Session

__all__ = ["CheckOutcome", "OutputResult", "handle_output", "output_fingerprint"]


@dataclass(frozen=True)
class OutputResult:
    """What a task's output did: rows written (None when nothing was materialized) and checks.

    ``rejected`` names the copy of a build its checks refused (the table was left as it was).
    """

    rows_affected: int | None
    checks: list[CheckOutcome] = field(default_factory=list)
    failed: bool = False
    rejected: str | None = None


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
    table: str | None = None,
) -> OutputResult:
    """Materialize a returned DataFrame under ``task_name`` once every check passed on it.

    The form comes from ``task_config["materialize"]`` (table by default); ``unique_key`` and
    ``indexes`` there are passed on. Checks target the task's table unless they name another;
    ``table`` is the name readers know when ``task_name`` is a stage's shadow. Any other result
    that carries an int ``rows_affected`` (an ingest run) reports that, then is checked.
    """
    every = [
        *checks,
        *checks_from_config(task_config.get("checks"), where=f"tasks.{task_name}.checks"),
    ]
    if isinstance(result, DataFrame):
        audit = Audit(every, table=table, schema=session.schema)
        rows = result.materialize(
            task_name,
            as_=task_config.get("materialize") or "table",
            unique_key=task_config.get("unique_key"),
            indexes=task_config.get("indexes"),
            schema=session.schema,
            audit=audit,
        )
        failed = any(o.failed for o in audit.outcomes)
        return OutputResult(rows, audit.outcomes, failed, audit.rejected)
    loaded = getattr(result, "rows_affected", None)  # e.g. an ingest result: the rows it loaded
    outcomes = [
        check.run(session.engine, default_table=task_name, schema=session.schema) for check in every
    ]
    return OutputResult(
        loaded if isinstance(loaded, int) else None, outcomes, any(o.failed for o in outcomes)
    )
