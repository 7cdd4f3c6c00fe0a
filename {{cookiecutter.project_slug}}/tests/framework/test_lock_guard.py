"""A run that lost the run lock swaps nothing in: every table swap of a task first checks, on
the connection about to swap, that the lock's row still names the task's run."""

from __future__ import annotations

import pytest
from engine_support import migrated, reload, run, task_rows, write_models
from faults_support import PACKAGE, leftovers, rows_of
from sqlalchemy import Engine, delete, insert, select, text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.locks import LOCKS, check_run_lock, running_as
from {{ cookiecutter.package_name }}.errors import RunLockLostError
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]

# ``target`` is built as version 1; in the second run, ``thief`` hands the lock's row to another
# run before ``target`` swaps its version 2 in (what a run that took the lock over would do).
MODELS = """
    from datetime import datetime
    from pathlib import Path

    from sqlalchemy import delete, insert

    from PACKAGE.core.task import Task
    from PACKAGE.db.locks import LOCKS

    STEAL = Path(__file__).resolve().parents[1] / "steal"


    @Task()
    def thief(engine):
        if STEAL.exists():
            now = datetime.now()
            row = dict(name="pipeline", run_id="another-run", host="elsewhere", pid=1)
            with engine.begin() as conn:
                conn.execute(delete(LOCKS))
                conn.execute(insert(LOCKS).values(acquired_at=now, heartbeat_at=now, **row))


    @Task(depends_on=[thief])
    def target(session):
        version = 2 if STEAL.exists() else 1
        return session.sql(f"SELECT {version} AS version")


    @Task(depends_on=[thief])
    def view(session):
        version = 2 if STEAL.exists() else 1
        return session.sql(f"SELECT {version} AS version")
""".replace("PACKAGE", PACKAGE)
CONFIG = "\ntasks:\n  view:\n    materialize: view\n"


@pytest.fixture
def engine(migrated: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(migrated.database_url)
    yield engine
    engine.dispose()


def _hold(engine: Engine, run_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(LOCKS))
        conn.execute(
            insert(LOCKS).values(
                name="pipeline",
                run_id=run_id,
                host="here",
                pid=1,
                acquired_at=text("CURRENT_TIMESTAMP"),
                heartbeat_at=text("CURRENT_TIMESTAMP"),
            )
        )


def test_outside_a_run_the_check_does_nothing(engine: Engine) -> None:
    with engine.connect() as conn:
        check_run_lock(conn)  # no lock row at all, and no run: nothing to guard


def test_a_run_holding_the_lock_passes_the_check(engine: Engine) -> None:
    _hold(engine, "run-one")
    with running_as("run-one"), engine.connect() as conn:
        check_run_lock(conn)


def test_a_run_whose_lock_another_run_holds_fails_the_check(engine: Engine) -> None:
    _hold(engine, "run-two")
    with running_as("run-one"), engine.connect() as conn:
        with pytest.raises(RunLockLostError, match="lost the run lock 'pipeline'"):
            check_run_lock(conn)


def test_a_run_that_lost_the_lock_keeps_the_previous_tables(migrated: Settings) -> None:
    write_models(migrated.root, MODELS)
    path = migrated.root / "settings.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("tasks: {}", CONFIG.strip()))
    assert run(reload(migrated)).status == "success"

    (migrated.root / "steal").write_text("")
    report = run(reload(migrated), full_refresh=True)
    assert report.status == "failed"
    assert {name: "lost the run lock" in error for name, error in report.errors.items()} == {
        "target": True,
        "view": True,
    }
    engine = make_engine(migrated.database_url)
    try:
        assert rows_of(engine, "target") == {(1,)}
        with engine.connect() as conn:
            assert conn.scalar(select(text("version")).select_from(text("view"))) == 1
    finally:
        engine.dispose()
    assert leftovers(migrated) == []
    failed = {r.task for r in task_rows(migrated, report.run_id) if r.status == "failed"}
    assert failed == {"target", "view"}
