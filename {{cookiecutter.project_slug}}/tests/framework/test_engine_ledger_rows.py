"""What a run leaves in the ledger, row by row, on random DAGs with random failures: one row
per attempt with its status, a failed attempt's retry in the reason, descendants of a task that
failed for good recorded ``upstream_failed`` once, and ``task_latest`` agreeing with the rows.
The batched writer and the lazily started pool must leave exactly what this model says."""

from __future__ import annotations

import threading

import pytest
from engine_support import migrated, run, task_rows
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from test_engine_properties import build, graphs

from {{ cookiecutter.package_name }}.core.dag import Dag
from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.models import LATEST
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import TaskState

__all__ = ["migrated"]
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def expected_rows(
    dag: Dag, failures: list[int], retries: list[int]
) -> set[tuple[str, int, str, bool]]:
    """(task, attempt, status, reason says it retries) of every row the run must leave."""
    rows: set[tuple[str, int, str, bool]] = set()
    final: dict[str, TaskState] = {}
    for name in dag.names:
        index = int(name[1:])
        if any(final[parent] != TaskState.SUCCESS for parent in dag.upstream(name)):
            final[name] = TaskState.UPSTREAM_FAILED
            rows.add((name, 1, TaskState.UPSTREAM_FAILED.value, False))
            continue
        attempts = min(failures[index], retries[index] + 1)
        for attempt in range(1, attempts + 1):
            rows.add((name, attempt, TaskState.FAILED.value, attempt <= retries[index]))
        if failures[index] <= retries[index]:
            rows.add((name, attempts + 1, TaskState.SUCCESS.value, False))
            final[name] = TaskState.SUCCESS
        else:
            final[name] = TaskState.FAILED
    return rows


@ON_SQLITE
@pytest.mark.slow
@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=graphs(), workers=st.integers(1, 4))
def test_the_ledger_holds_one_row_per_attempt_with_its_status(
    migrated: Settings, graph: tuple[list[list[int]], list[int], list[int]], workers: int
) -> None:
    parents, failures, retries = graph
    dag = build(parents, failures, retries, [], threading.Lock())
    report = run(migrated, dag=dag, full_refresh=True, workers=workers)

    rows = task_rows(migrated, report.run_id)
    found = {(r.task, r.attempt, r.status, (r.reason or "").startswith("retry ")) for r in rows}
    assert len(rows) == len(found), "an attempt has two rows"
    assert found == expected_rows(dag, failures, retries)
    for row in rows:
        assert row.finished_at is not None and row.fingerprint is not None
        if row.status != TaskState.UPSTREAM_FAILED:
            assert row.started_at is not None and row.started_at <= row.finished_at
    engine = make_engine(migrated.database_url)
    try:
        with engine.connect() as conn:
            latest = {r.task: r for r in conn.execute(select(LATEST))}
    finally:
        engine.dispose()
    last = {}
    for row in rows:
        if row.status != TaskState.UPSTREAM_FAILED:
            last[row.task] = max(last.get(row.task, row), row, key=lambda r: r.attempt)
    assert {t: (r.last_run_id, r.last_status) for t, r in latest.items() if t in last} == {
        t: (report.run_id, r.status) for t, r in last.items()
    }
