"""The ledger writer's batches go straight to the driver (``Prepared``): the rows they store
are the rows SQLAlchemy's own ``execute`` stores from the same values, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine_support import migrated
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.ledger import Ledger, LedgerWriter
from {{ cookiecutter.package_name }}.db.ledger_batches import _processor
from {{ cookiecutter.package_name }}.db.ledger_writer import _columns
from {{ cookiecutter.package_name }}.db.models import LATEST, TASKS
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]
FAST, PLAIN = "20260101T000000-0000fast", "20260101T000000-000plain"
T0 = datetime(2026, 3, 4, 5, 6, 7)


@given(st.datetimes(timezones=st.none() | st.just(UTC)))
def test_sqlite_times_are_the_text_sqlalchemy_would_store(value: datetime) -> None:
    kind = TASKS.c.started_at.type
    dialect = sqlite.dialect()
    plain = kind.dialect_impl(dialect).bind_processor(dialect)
    fast = _processor(kind, dialect)
    assert fast is not plain and plain is not None and fast is not None
    assert fast(value) == plain(value)


def rows() -> list[dict[str, object]]:
    """Every column set or left empty, whole seconds and microseconds, a too long error."""
    return [
        {"task": "a", "attempt": 1, "status": "running", "started_at": T0},
        {
            "task": "b",
            "attempt": 2,
            "status": "failed",
            "reason": "r" * 300,
            "started_at": T0 + timedelta(microseconds=1),
            "finished_at": T0 + timedelta(seconds=1, microseconds=999_999),
            "duration_ms": 1999,
            "error": "E" * 70_000,
            "fingerprint": "f" * 64,
            "output_fingerprint": "o" * 64,
            "rows_affected": 12,
        },
        {"task": "c", "attempt": 1, "status": "skipped", "reason": "cached"},
    ]


def stored(settings: Settings, run_id: str) -> list[tuple[object, ...]]:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(*[c for c in TASKS.columns if c.name not in ("id", "run_id")])
                .where(TASKS.c.run_id == run_id)
                .order_by(TASKS.c.task)
            )
            return [tuple(row) for row in found]
    finally:
        engine.dispose()


def open_runs(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    for run_id in (FAST, PLAIN):
        run = {"id": run_id, "started_at": T0, "heartbeat_at": T0, "status": "running"}
        Ledger(engine).open_run({**run, "selection": "{}", "host": "here", "pid": 1}, T0)
    engine.dispose()


def test_batched_rows_are_the_rows_sqlalchemy_stores(migrated: Settings) -> None:
    open_runs(migrated)
    engine = make_engine(migrated.database_url)
    try:
        writer = LedgerWriter(engine, FAST, linger_s=0)
        for row in rows():  # first inserted, then each updated by a later batch
            writer.put({**row, "status": "running", "reason": None})  # type: ignore[typeddict-item]
        writer.flush()
        for row in rows():
            writer.put(row)  # type: ignore[arg-type]
        writer.close()
        with engine.begin() as conn:
            conn.execute(TASKS.insert(), [_columns(row, PLAIN) for row in rows()])
        with engine.connect() as conn:
            latest = conn.execute(select(LATEST).order_by(LATEST.c.task)).all()
    finally:
        engine.dispose()
    fast = stored(migrated, FAST)
    assert fast == stored(migrated, PLAIN)
    assert fast[1][5] == T0 + timedelta(seconds=1, microseconds=999_999)  # finished_at
    assert [(row.task, row.last_status, row.last_at) for row in latest] == [
        ("a", "running", T0),
        ("b", "failed", T0 + timedelta(seconds=1, microseconds=999_999)),
    ]
