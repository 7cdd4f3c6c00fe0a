"""The ledger's index walks answer as the plain queries they replace: task names by a recursive
walk instead of a DISTINCT, each task's latest state by one probe per name instead of a GROUP BY
over every attempt, the runs' task filter by an EXISTS probe instead of an IN list, and the
Overview's run summary by indexed reads instead of one pass over every run."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from engine_support import migrated
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, Engine, and_, case, delete, func, insert, select

from {{ cookiecutter.package_name }}.db import ledger_reads as reads
from {{ cookiecutter.package_name }}.db.models import RUNS, TASKS
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sqltyping import AnySelect
from {{ cookiecutter.package_name }}.status import RUN_FAILURES, RunState, TaskState

__all__ = ["migrated"]
NAMES = ["a", "ab", "b", "task_1", "task_10", "task_2", "z-9"]
ASKED = [*NAMES, "never_ran"]
RUN_COUNT = 4
START = datetime(2026, 1, 1)
attempts = st.lists(
    st.tuples(
        st.integers(0, RUN_COUNT - 1),
        st.sampled_from(NAMES),
        st.sampled_from([state.value for state in TaskState]),
    ),
    max_size=30,
)


def _fill(engine: Engine, rows: list[tuple[int, str, str]]) -> None:
    """A fresh ledger: the runs, then each (run, task) attempt numbered in order."""
    tried: Counter[tuple[int, str]] = Counter()
    with engine.begin() as conn:
        conn.execute(delete(TASKS))
        conn.execute(delete(RUNS))
        runs = [
            {
                "id": f"run-{i}",
                "started_at": START + timedelta(hours=i),
                "status": RunState.SUCCESS.value,
                "host": "here",
                "pid": i,
            }
            for i in range(RUN_COUNT)
        ]
        conn.execute(insert(RUNS), runs)
        for run, task, status in rows:
            tried[run, task] += 1
            attempt = {"run_id": f"run-{run}", "task": task, "attempt": tried[run, task]}
            conn.execute(insert(TASKS), {**attempt, "status": status})


def _plain_latest(tasks: list[str]) -> AnySelect:
    newest = select(func.max(TASKS.c.id).label("id")).where(TASKS.c.task.in_(tasks))
    last = newest.group_by(TASKS.c.task).subquery()
    return select(TASKS.c.task, TASKS.c.status, TASKS.c.finished_at).join(
        last, TASKS.c.id == last.c.id
    )


@examples(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=attempts,
    asked=st.lists(st.sampled_from(ASKED), min_size=1, unique=True),
    wanted=st.sampled_from(ASKED),
)
def test_the_index_walks_match_the_plain_queries(
    engine: Engine,
    migrated: Settings,
    rows: list[tuple[int, str, str]],
    asked: list[str],
    wanted: str,
) -> None:
    _fill(engine, rows)
    with engine.connect() as conn:
        names = set(conn.execute(reads.task_names_query(engine.dialect.name)).scalars())
        assert names == set(conn.execute(select(TASKS.c.task).distinct()).scalars())
        assert names == {task for _, task, _ in rows}
        only = set(conn.execute(reads.task_names_query(engine.dialect.name, asked)).scalars())
        assert only == names & set(asked)
        walked = set(conn.execute(reads.latest_states_query(engine.dialect.name, asked)).all())
        assert walked == set(conn.execute(_plain_latest(asked)).all())
        with_task = reads.RunFilter(task=wanted).conditions(engine.dialect.name)
        plain = RUNS.c.id.in_(select(TASKS.c.run_id).where(TASKS.c.task == wanted))
        probed = set(conn.execute(select(RUNS.c.id).where(*with_task)).scalars())
        assert probed == set(conn.execute(select(RUNS.c.id).where(plain)).scalars())


def _plain_summary(since: datetime) -> AnySelect:
    """The one pass over every run that the summary's indexed reads replace."""
    recent = RUNS.c.started_at >= since

    def recent_count(*condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((and_(recent, *condition), 1), else_=0))

    return select(
        func.count().label("runs"),
        func.max(RUNS.c.started_at).label("last_started"),
        recent_count().label("recent"),
        recent_count(RUNS.c.status == RunState.SUCCESS).label("ok"),
        recent_count(RUNS.c.status.in_(RUN_FAILURES)).label("bad"),
    )


@examples(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    runs=st.lists(
        st.tuples(st.integers(0, 72), st.sampled_from([state.value for state in RunState])),
        max_size=12,
    ),
    since_hours=st.integers(0, 80),
)
def test_the_run_summary_matches_one_pass_over_the_runs(
    engine: Engine, migrated: Settings, runs: list[tuple[int, str]], since_hours: int
) -> None:
    with engine.begin() as conn:
        conn.execute(delete(TASKS))
        conn.execute(delete(RUNS))
        for i, (hours, status) in enumerate(runs):
            started = START + timedelta(hours=hours)
            row = {"id": f"run-{i}", "started_at": started, "status": status, "host": "h", "pid": i}
            conn.execute(insert(RUNS), row)
    since = START + timedelta(hours=since_hours)
    with engine.connect() as conn:
        fast = conn.execute(reads.run_summary_query(since)).one()
        plain = conn.execute(_plain_summary(since)).one()
    assert [value or 0 for value in fast] == [value or 0 for value in plain]
