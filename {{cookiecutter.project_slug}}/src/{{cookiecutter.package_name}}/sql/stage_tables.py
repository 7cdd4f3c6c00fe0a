"""The SQL of stages: shadow tables, reading them, publishing them together, dropping leftovers.

While a run builds a stage, each task's table lives under ``<name>__pl_stage``; when every task
of the stage has succeeded, all of them replace their targets at once (MySQL: one ``RENAME
TABLE`` statement; SQLite and PostgreSQL: one transaction). The shadows a failed or killed run
left behind are dropped by the next run. When a stage publishes is the run's decision
(``core/stages.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect

from ..faults import crash_point
from .dataframe import DataFrame
from .ddl import STAGE_SUFFIX
from .materialize import swap_in
from .session import Session

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "STAGE_SUFFIX",
    "StageSession",
    "clean_stage_leftovers",
    "publish_stage",
    "shadow_name",
]


def shadow_name(name: str) -> str:
    """Where a staged task's table is built before its stage is published."""
    return name + STAGE_SUFFIX


class StageSession(Session):
    """A session for a staged task: tables its stage already built in this run are read from
    their shadows, so a task sees its own stage's new tables before they are published."""

    def __init__(
        self,
        engine: Engine,
        shadows: Mapping[str, str],
        schema: str | None = None,
        *,
        settings: Settings | None = None,
    ):
        super().__init__(engine, schema, settings=settings)
        self.shadows = dict(shadows)

    def table(self, name: str, *, schema: str | None = None) -> DataFrame:
        return super().table(self.shadows.get(name, name), schema=schema)


def publish_stage(
    engine: Engine,
    targets: Iterable[str],
    *,
    schema: str | None = None,
    check_lock: Callable[[], None] | None = None,
) -> list[str]:
    """Replace every target whose shadow was built, all at once; returns the published names.

    ``check_lock`` runs just before the swap and raises if this run no longer holds the run
    lock, so a run that lost it publishes nothing.
    """
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names(schema=schema))
    pairs = [(shadow_name(t), t) for t in targets if shadow_name(t) in present]
    crash_point("stage.before_publish")
    if check_lock is not None:
        check_lock()
    if pairs:
        swap_in(engine, pairs, schema=schema)
    crash_point("stage.after_publish")
    return [target for _, target in pairs]


def clean_stage_leftovers(engine: Engine, *, schema: str | None = None) -> list[str]:
    """Drop the shadows of stages a failed or killed run never published."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        found = [t for t in inspector.get_table_names(schema=schema) if t.endswith(STAGE_SUFFIX)]
    preparer = engine.dialect.identifier_preparer
    for name in found:
        with engine.begin() as conn:
            quoted = preparer.quote(name)
            target = f"{preparer.quote_schema(schema)}.{quoted}" if schema else quoted
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {target}")
    return found
