"""The index-backed read of each task's latest state answers exactly what the plain
``GROUP BY`` over the whole history does, and walks the ``(task, id)`` index instead of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine

from {{ cookiecutter.package_name }}.db.base import Base
from {{ cookiecutter.package_name }}.db.ledger_reads import latest_states_query
from {{ cookiecutter.package_name }}.db.models import RUNS, TASKS
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


def steps(engine: Engine, query: object) -> int:
    """SQLite virtual-machine steps (in hundreds) the query takes: the work it does."""
    counted = [0]
    raw = engine.raw_connection()
    try:
        compiled = str(query.compile(engine, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
        raw.driver_connection.set_progress_handler(lambda: counted.__setitem__(0, counted[0] + 1) or 0, 100)  # type: ignore[union-attr]
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
