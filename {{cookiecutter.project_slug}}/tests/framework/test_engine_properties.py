"""Property tests on random DAGs with random failures (hypothesis).

For any graph and any pattern of failures: every attempt starts at most once, no task starts
before all its upstream tasks finished, descendants of a task that failed for good never run,
and every other task runs and succeeds.
"""

from __future__ import annotations

import threading

import pytest
from engine_support import graphs, migrated, random_dag, run
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import TaskState

__all__ = ["migrated"]


def build(parents, failures, retries, events, lock):
    def body_of(i):
        def body(run):
            with lock:
                events.append(("start", run.task, run.attempt))
            try:
                if run.attempt <= failures[i]:
                    raise RuntimeError(f"planned failure {run.attempt}")
            finally:
                with lock:
                    events.append(("end", run.task, run.attempt))

        return body

    return random_dag(parents, retries, body_of)


@pytest.mark.slow
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=graphs(), workers=st.integers(1, 4))
def test_random_dags_with_random_failures(migrated: Settings, graph, workers: int) -> None:
    parents, failures, retries = graph
    events: list[tuple[str, str, int]] = []
    dag = build(parents, failures, retries, events, threading.Lock())
    report = run(migrated, dag=dag, full_refresh=True, workers=workers)

    starts = [(name, attempt) for kind, name, attempt in events if kind == "start"]
    assert len(starts) == len(set(starts)), "an attempt started twice"
    position = {(kind, name, attempt): i for i, (kind, name, attempt) in enumerate(events)}
    last_end = {name: i for (kind, name, _), i in position.items() if kind == "end"}
    for (kind, name, _attempt), index in position.items():
        if kind == "start":
            for parent in dag.upstream(name):
                assert last_end[parent] < index, f"{name} started before {parent} ended"

    failed_for_good = {f"t{i}" for i, f in enumerate(failures) if f > retries[i]}
    blocked = set().union(*(dag.descendants(n) for n in failed_for_good))
    started = {name for name, _ in starts}
    assert not (blocked & started), "a descendant of a failure ran"
    for name in dag.names:
        if name in blocked:
            assert report.tasks[name] == TaskState.UPSTREAM_FAILED
        elif name in failed_for_good:
            assert report.tasks[name] == TaskState.FAILED
        else:
            assert report.tasks[name] == TaskState.SUCCESS
