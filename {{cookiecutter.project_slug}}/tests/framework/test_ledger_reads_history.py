"""The index-backed read of each task's latest state answers exactly what the plain
``GROUP BY`` over the whole history does, and walks the ``(task, id)`` index instead of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine

from {{ cookiecutter.package_name }}.db.base import Base
from {{ cookiecutter.package_name }}.db.ledger_reads import (
    NAMES_PER_QUERY,
    TaskHistory,
    latest_states_query,
    task_history,
)
from {{ cookiecutter.package_name }}.db.models import LATEST, RUNS, TASKS
from {{ cookiecutter.package_name }}.status import RunState, TaskState
from {{ cookiecutter.package_name }}.system import utcnow

NAMES = ["a", "b", "c", "d"]
ROWS = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(list(TaskState))), max_size=40)


@pytest.fixture(scope="module")
def ledger() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def fill(engine: Engine, rows: list[tuple[str, TaskState]]) -> None:
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(TASKS.delete())
        conn.execute(RUNS.delete())
        conn.execute(
            RUNS.insert().values(id="r", started_at=now, status=RunState.SUCCESS, host="h", pid=1)
        )
        for attempt, (task, status) in enumerate(rows, 1):  # attempts keep the rows unique
            conn.execute(
                TASKS.insert().values(
                    run_id="r", task=task, attempt=attempt, status=status, finished_at=now
                )
            )


@settings(max_examples=60, deadline=None)
@given(rows=ROWS, asked=st.lists(st.sampled_from([*NAMES, "never"]), unique=True))
def test_the_per_task_lookup_equals_the_group_by(
    ledger: Engine, rows: list[tuple[str, TaskState]], asked: list[str]
) -> None:
    fill(ledger, rows)
    with ledger.connect() as conn:
        plain = {
            r.task: (r.status, r.finished_at)
            for r in conn.execute(latest_states_query(ledger.dialect.name))
        }
        looked_up = {
            r.task: (r.status, r.finished_at)
            for r in conn.execute(latest_states_query(ledger.dialect.name, asked))
        }
    assert looked_up == {task: state for task, state in plain.items() if task in asked}


@contextmanager
def counting_steps(sqlite: Any) -> Iterator[list[int]]:
    """Count the SQLite virtual-machine steps (in hundreds) run on ``sqlite`` inside the block:
    the work its statements do. The count is the list's one item."""
    counted = [0]
    sqlite.set_progress_handler(lambda: counted.__setitem__(0, counted[0] + 1) or 0, 100)
    try:
        yield counted
    finally:
        sqlite.set_progress_handler(None, 100)


def steps(engine: Engine, query: object) -> int:
    """SQLite virtual-machine steps (in hundreds) the query takes: the work it does."""
    raw = engine.raw_connection()
    try:
        compiled = str(query.compile(engine, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
        with counting_steps(raw.driver_connection) as counted:
            raw.cursor().execute(compiled).fetchall()
    finally:
        raw.close()
    return counted[0]


def test_the_per_task_lookup_costs_the_same_however_long_the_history(ledger: Engine) -> None:
    query = latest_states_query(ledger.dialect.name, ["a", "b"])
    fill(ledger, [("a", TaskState.SUCCESS), ("b", TaskState.SKIPPED)] * 50)
    short = steps(ledger, query)
    fill(ledger, [("a", TaskState.SUCCESS), ("b", TaskState.SKIPPED)] * 5000)
    long = steps(ledger, query)
    assert long <= short + 2, (short, long)
    with ledger.connect() as conn:
        assert {r.task: r.status for r in conn.execute(query)} == {
            "a": TaskState.SUCCESS,
            "b": TaskState.SKIPPED,
        }


def fill_latest(engine: Engine, names: list[str]) -> None:
    """``task_latest`` holding one row for each of ``names``."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(LATEST.delete())
        if names:
            rows = [
                {"task": name, "last_run_id": "r", "last_status": TaskState.SUCCESS, "last_at": now}
                for name in names
            ]
            conn.execute(LATEST.insert(), rows)


@settings(max_examples=20, deadline=None)
@given(
    known=st.integers(0, 2 * NAMES_PER_QUERY + 5),
    asked=st.sets(st.integers(0, 2 * NAMES_PER_QUERY + 50), max_size=2 * NAMES_PER_QUERY + 5),
)
def test_a_runs_history_is_the_whole_history_of_its_own_names(
    ledger: Engine, known: int, asked: set[int]
) -> None:
    fill_latest(ledger, [f"t{i}" for i in range(known)])
    names = [f"t{i}" for i in asked]
    with ledger.connect() as conn:
        whole = {
            row.task: TaskHistory(*(getattr(row, field) for field in TaskHistory._fields))
            for row in conn.execute(LATEST.select())
        }
        assert task_history(conn, names) == {k: v for k, v in whole.items() if k in set(names)}


def test_a_runs_history_read_costs_the_same_however_many_other_names_the_ledger_has(
    ledger: Engine,
) -> None:
    # A run reads its own DAG's names: 20,000 names left by other pipelines or renamed tasks
    # once made every run of a 60-task DAG read them all.
    def read_cost() -> int:
        with ledger.connect() as conn, counting_steps(conn.connection.driver_connection) as counted:
            assert set(task_history(conn, ["a", "b"])) == {"a", "b"}
        return counted[0]

    fill_latest(ledger, ["a", "b", *(f"other{i}" for i in range(50))])
    few = read_cost()
    fill_latest(ledger, ["a", "b", *(f"other{i}" for i in range(20_000))])
    many = read_cost()
    assert many <= few + 2, (few, many)
