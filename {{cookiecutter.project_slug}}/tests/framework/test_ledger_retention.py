"""``runs prune``: old finished runs go with every row under them, in batches that a kill
cannot leave half-deleted; the runs the cache, ``--resume`` and a run in progress need stay.
On every backend the framework tests run on."""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest
from engine_support import cli, cli_env, migrated, run, write_models  # noqa: F401
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.models import CHECKS, RUNS, TABLES, TASKS
from {{ cookiecutter.package_name }}.db.retention import BadAgeError, parse_age, prune_runs
from {{ cookiecutter.package_name }}.errors import InjectedCrash
from {{ cookiecutter.package_name }}.faults import CRASH_ACTION_ENV, CRASH_AT_ENV
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import CheckStatus, RunState, TaskState
from {{ cookiecutter.package_name }}.system import utcnow

MODELS = """
from {{ cookiecutter.package_name }}.core.task import Task


@Task()
def first():
    return None


@Task(depends_on=[first])
def second():
    return None
"""


def ledger(settings: Settings) -> Engine:
    return make_engine(settings.database_url)


def age_everything(engine: Engine, days: int) -> None:
    """Move every run (and its rows) ``days`` into the past."""
    with engine.begin() as conn:
        for run in list(conn.execute(select(RUNS.c.id, RUNS.c.started_at, RUNS.c.finished_at))):
            conn.execute(
                RUNS.update()
                .where(RUNS.c.id == run.id)
                .values(
                    started_at=run.started_at - timedelta(days=days),
                    finished_at=run.finished_at and run.finished_at - timedelta(days=days),
                )
            )


def with_checks_and_lineage(engine: Engine, run_id: str) -> None:
    """A check result and a lineage row for every task row of a run, as a SQL task writes."""
    with engine.begin() as conn:
        for row in list(conn.execute(select(TASKS).where(TASKS.c.run_id == run_id))):
            conn.execute(
                CHECKS.insert().values(
                    task_run_id=row.id,
                    name="not_null_id",
                    severity="error",
                    status=CheckStatus.PASS,
                    failing_rows=0,
                    checked_at=row.started_at,
                )
            )
            conn.execute(
                TABLES.insert().values(task_run_id=row.id, table_name=row.task, access="write")
            )


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.scalar(select(func.count()).select_from(table)) or 0
            for table in (RUNS, TASKS, CHECKS, TABLES)
        }


def orphans(engine: Engine) -> int:
    """Rows whose parent row is gone: what a half-done prune would leave."""
    with engine.connect() as conn:
        return sum(
            conn.scalar(select(func.count()).where(column.not_in(select(parent)))) or 0
            for column, parent in (
                (TASKS.c.run_id, RUNS.c.id),
                (CHECKS.c.task_run_id, TASKS.c.id),
                (TABLES.c.task_run_id, TASKS.c.id),
            )
        )


def history(settings: Settings) -> list[str]:
    """Four runs, all aged 100 days: executed, re-executed (the latest success), cached twice
    (the last one is the newest run). The first has checks and lineage."""
    write_models(settings.root, MODELS)
    ids = [run(settings).run_id]
    ids.append(run(settings, full_refresh=True).run_id)
    ids += [run(settings).run_id, run(settings).run_id]
    engine = ledger(settings)
    try:
        with_checks_and_lineage(engine, ids[0])
        age_everything(engine, 100)
    finally:
        engine.dispose()
    return ids


def run_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(RUNS.c.id)))


def test_prune_deletes_old_runs_with_their_rows_and_keeps_what_the_cache_needs(
    migrated: Settings,
) -> None:
    ids = history(migrated)
    done = cli(migrated, "runs", "prune", "--older-than", "90d")
    assert done.returncode == 0, done.stderr
    assert "deleted 2 runs" in done.stdout
    engine = ledger(migrated)
    try:
        # the latest success of each task (ids[1]) and the newest run (ids[3]) stay
        assert run_ids(engine) == {ids[1], ids[3]}
        assert counts(engine)["check_results"] == counts(engine)["task_tables"] == 0
        assert orphans(engine) == 0
    finally:
        engine.dispose()
    again = run(migrated)
    assert again.tasks == {"first": TaskState.SKIPPED, "second": TaskState.SKIPPED}


def test_prune_keeps_runs_younger_than_the_age_and_a_run_in_progress(migrated: Settings) -> None:
    ids = history(migrated)
    engine = ledger(migrated)
    try:
        with engine.begin() as conn:  # the oldest run is still running (or its process died)
            conn.execute(
                RUNS.update()
                .where(RUNS.c.id == ids[0])
                .values(status=RunState.RUNNING, finished_at=None)
            )
        assert cli(migrated, "runs", "prune", "--older-than", "200d").returncode == 0
        assert run_ids(engine) == set(ids)
        assert cli(migrated, "runs", "prune", "--older-than", "12h").returncode == 0
        assert run_ids(engine) == {ids[0], ids[1], ids[3]}
    finally:
        engine.dispose()


def test_a_dry_run_counts_what_would_go_and_deletes_nothing(migrated: Settings) -> None:
    history(migrated)
    engine = ledger(migrated)
    try:
        before = counts(engine)
        done = cli(migrated, "runs", "prune", "--older-than", "30d", "--dry-run")
        assert done.returncode == 0, done.stderr
        assert "would delete 2 runs" in done.stdout
        assert "4 task rows, 2 check results, 2 lineage rows" in done.stdout
        assert counts(engine) == before
    finally:
        engine.dispose()


@pytest.mark.parametrize("age", ["90", "90x", "d", "-3d", "0d", "1.5d", "ninety days"])
def test_a_bad_age_exits_2_with_one_paragraph(migrated: Settings, age: str) -> None:
    done = cli(migrated, "runs", "prune", "--older-than", age)
    assert done.returncode == 2, done.stderr
    assert "is not an age" in done.stderr and "--older-than 90d" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_prune_killed_mid_batch_leaves_whole_runs_and_a_second_prune_finishes(
    migrated: Settings,
) -> None:
    ids = history(migrated)
    engine = ledger(migrated)
    try:
        before = counts(engine)
        env_args = ("runs", "prune", "--older-than", "90d")
        killed = _cli_with(migrated, {CRASH_AT_ENV: "prune.children_deleted"}, *env_args)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert counts(engine) == before and orphans(engine) == 0  # the batch rolled back
        assert cli(migrated, *env_args).returncode == 0
        assert run_ids(engine) == {ids[1], ids[3]} and orphans(engine) == 0
    finally:
        engine.dispose()


def _cli_with(settings: Settings, extra: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    from engine_support import PACKAGE

    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        cwd=settings.root,
        env={**cli_env(settings), **extra},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_each_batch_commits_on_its_own(migrated: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = history(migrated)
    engine = ledger(migrated)
    cutoff = utcnow() - timedelta(days=90)
    try:
        monkeypatch.setenv(CRASH_AT_ENV, "prune.batch_committed")
        monkeypatch.setenv(CRASH_ACTION_ENV, "raise")
        with pytest.raises(InjectedCrash):
            prune_runs(engine, cutoff, batch=1)
        assert run_ids(engine) == {ids[1], ids[2], ids[3]} and orphans(engine) == 0
        monkeypatch.delenv(CRASH_AT_ENV)
        assert prune_runs(engine, cutoff, batch=1).runs == 1
        assert run_ids(engine) == {ids[1], ids[3]} and orphans(engine) == 0
    finally:
        engine.dispose()


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from("mhdw"))
def test_parse_age_reads_every_unit(number: int, unit: str) -> None:
    name = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[unit]
    assert parse_age(f"{number}{unit}") == timedelta(**{name: number})


def test_parse_age_refuses_zero_and_words() -> None:
    for text_ in ("0d", "", "d90", "90 days"):
        with pytest.raises(BadAgeError):
            parse_age(text_)


def test_listing_the_newest_runs_walks_the_index_without_sorting(migrated: Settings) -> None:
    if migrated.database_url.get_backend_name() != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    from {{ cookiecutter.package_name }}.db.ledger_reads import runs_query

    engine = ledger(migrated)
    try:
        with engine.connect() as conn:
            compiled = runs_query().limit(20).compile(conn, compile_kwargs={"literal_binds": True})
            plan = " ".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    finally:
        engine.dispose()
    assert "ix_pipeline_runs_started_at_id" in plan and "TEMP B-TREE" not in plan
