"""Children submitted ahead on Dask: the same random DAG with random failures and retries gives
the same statuses and ledger rows on threads and on Dask (a full refresh, then an incremental
run whose decisions read the first), the engine adopts what was submitted ahead, and a child
submitted behind a failing or retried parent never runs its body early."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from dask_support import client, on_dask
from engine_support import (
    graphs,
    migrated,
    models_body,
    random_dag,
    run,
    task_rows,
    with_failures,
)
from faults_support import PACKAGE
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from {{ cookiecutter.package_name }}.core.dag import Dag
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import TaskState

__all__ = ["client", "migrated"]
pytestmark = pytest.mark.slow

BODIES = """
    import time

    from PACKAGE.core.task import Task


    def body(run, config):
        with open(config["events"], "a") as handle:
            handle.write(f"start {run.task} {run.attempt}\\n")
        time.sleep(config.get("sleep", 0))
        if run.attempt <= config["failures"]:
            raise RuntimeError(f"planned failure {run.attempt}")


    for index in range(12):
        Task(name=f"t{index}")(body)
""".replace("PACKAGE", PACKAGE)


def _dag(root: Path, parents: list[list[int]], retries: list[int]) -> Dag:
    body = models_body(root, BODIES, module="ahead")
    return random_dag(parents, retries, lambda _: body)


def _starts(events: Path) -> list[tuple[str, int]]:
    lines = events.read_text().split("\n") if events.exists() else []
    return [(name, int(attempt)) for _, name, attempt in (line.split() for line in lines if line)]


def _outcome(settings: Settings, dag: Dag, executor: object, full: bool):  # type: ignore[no-untyped-def]
    """Statuses per task and the run's ledger rows (task, attempt, status), sorted."""
    report = run(settings, dag=dag, full_refresh=full, executor=executor, workers=4)
    rows = sorted((r.task, r.attempt, r.status) for r in task_rows(settings, report.run_id))
    return dict(report.tasks), rows


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@hypothesis_settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=graphs(min_size=2))
def test_the_same_random_dag_gives_the_same_statuses_and_ledger_rows_on_threads_and_dask(
    client, migrated: Settings, graph
) -> None:
    parents, failures, retries = graph
    dag = _dag(migrated.root, parents, retries)
    events = migrated.root / f"events-{time.monotonic_ns()}.txt"
    settings = with_failures(migrated, events, failures)
    on_threads = [_outcome(settings, dag, None, full) for full in (True, False)]
    threads_starts = _starts(events)
    events.unlink(missing_ok=True)
    dask = on_dask(client, settings)
    on_workers = [_outcome(settings, dag, dask, full) for full in (True, False)]
    assert on_workers == on_threads
    assert sorted(_starts(events)) == sorted(threads_starts), "an attempt ran on one side only"


def test_children_submitted_ahead_are_adopted_and_run_once(client, migrated: Settings) -> None:
    # t0 -> t1 -> t2, and t0 -> t3: every child is submitted while t0 still sleeps
    dag = _dag(migrated.root, [[], [0], [1], [0]], [0, 0, 0, 0])
    events = migrated.root / "events.txt"
    settings = with_failures(migrated, events, [0, 0, 0, 0], sleep=0.5)
    dask = on_dask(client, settings)
    report = run(settings, dag=dag, full_refresh=True, executor=dask, workers=2)
    assert set(report.tasks.values()) == {TaskState.SUCCESS}, report.errors
    assert dask.adopted == 3
    assert sorted(_starts(events)) == [("t0", 1), ("t1", 1), ("t2", 1), ("t3", 1)]


def test_a_child_submitted_behind_a_failed_attempt_waits_for_the_retry(
    client, migrated: Settings
) -> None:
    # t0 fails its first attempt and succeeds on the retry; t1 was submitted behind attempt 1
    dag = _dag(migrated.root, [[], [0], [1]], [1, 0, 0])
    events = migrated.root / "events.txt"
    settings = with_failures(migrated, events, [1, 0, 0], sleep=0.3)
    dask = on_dask(client, settings)
    report = run(settings, dag=dag, full_refresh=True, executor=dask, workers=2)
    assert set(report.tasks.values()) == {TaskState.SUCCESS}, report.errors
    assert _starts(events) == [("t0", 1), ("t0", 2), ("t1", 1), ("t2", 1)]
    rows = [(r.task, r.attempt, r.status) for r in task_rows(settings, report.run_id)]
    assert sorted(rows) == [
        ("t0", 1, TaskState.FAILED),
        ("t0", 2, TaskState.SUCCESS),
        ("t1", 1, TaskState.SUCCESS),
        ("t2", 1, TaskState.SUCCESS),
    ]


def test_a_child_of_a_failed_parent_never_runs_its_body(client, migrated: Settings) -> None:
    dag = _dag(migrated.root, [[], [0], [1]], [0, 0, 0])
    events = migrated.root / "events.txt"
    settings = with_failures(migrated, events, [1, 0, 0], sleep=0.3)
    dask = on_dask(client, settings)
    report = run(settings, dag=dag, full_refresh=True, executor=dask, workers=2)
    assert report.tasks == {
        "t0": TaskState.FAILED,
        "t1": TaskState.UPSTREAM_FAILED,
        "t2": TaskState.UPSTREAM_FAILED,
    }
    assert _starts(events) == [("t0", 1)]
