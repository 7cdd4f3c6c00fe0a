"""PostgreSQL as a backend: its run lock is a ``pg_advisory_lock`` that the server frees with
the holder's connection, a table swap is one transaction that keeps the views reading the
table, and a date column compares with a date written as a string.

The lock tests terminate the lock's connection with ``pg_terminate_backend`` (the server's own
way to drop a client), as the MySQL suite does with ``KILL``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest
from engine_support import cli, migrated, write_models
from sqlalchemy import text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.locks import run_lock_for
from {{ cookiecutter.package_name }}.db.postgres_lock import PostgresRunLock
from {{ cookiecutter.package_name }}.errors import RunLockedError, RunLockLostError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sql.session import Session

__all__ = ["migrated"]
PACKAGE = "{{ cookiecutter.package_name }}"
ON_POSTGRESQL = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)
pytestmark = [pytest.mark.faults, ON_POSTGRESQL]

HOLDER = """
    import sys, time
    from PACKAGE.db.engine import make_engine
    from PACKAGE.db.locks import run_lock_for

    lock = run_lock_for(make_engine(sys.argv[1]))
    lock.acquire("run-killed")
    print("held", flush=True)
    time.sleep(600)
"""

ONE_TASK = """
    from PACKAGE.core.task import Task

    @Task()
    def extract():
        pass
"""


def test_the_run_lock_is_an_advisory_lock_that_refuses_a_second_run(migrated: Settings) -> None:
    engine = make_engine(migrated.database_url)
    try:
        first, second = run_lock_for(engine), run_lock_for(engine)
        assert isinstance(first, PostgresRunLock)
        first.acquire("run-one")
        held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        with engine.connect() as conn:
            assert conn.scalar(text(held)) == 1
        with pytest.raises(RunLockedError, match="run-one"):
            second.acquire("run-two")
        first.release()
        second.acquire("run-two")
        second.release()
    finally:
        engine.dispose()


def test_a_killed_holder_frees_the_lock_and_the_next_run_takes_it(migrated: Settings) -> None:
    url = migrated.database_url.render_as_string(hide_password=False)
    script = textwrap.dedent(HOLDER).replace("PACKAGE", PACKAGE)
    holder = subprocess.Popen(
        [sys.executable, "-c", script, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        engine = make_engine(migrated.database_url)
        with pytest.raises(RunLockedError, match="run-killed"):
            run_lock_for(engine).acquire("run-waiting")
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        lock = run_lock_for(engine)
        deadline = time.monotonic() + 20  # the server notices the closed socket
        while True:
            try:
                lock.acquire("run-next")
                break
            except RunLockedError:
                assert time.monotonic() < deadline, "the killed holder's lock was never freed"
                time.sleep(0.1)
        assert lock.holder() is not None and lock.holder().run_id == "run-next"
        lock.release()
        engine.dispose()
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_run_lock_taken_over_after_its_connection_dropped_is_lost(migrated: Settings) -> None:
    engine = make_engine(migrated.database_url)
    try:
        first, second = PostgresRunLock(engine), PostgresRunLock(engine)
        first.acquire("run-one")
        first.verify()
        _terminate(engine, first)
        second.acquire("run-two")
        with pytest.raises(RunLockLostError, match="lost the run lock"):
            first.verify()
        second.release()
        first.release()
    finally:
        engine.dispose()


def test_a_run_lock_whose_connection_dropped_is_taken_back(migrated: Settings) -> None:
    engine = make_engine(migrated.database_url)
    try:
        lock = PostgresRunLock(engine)
        lock.acquire("run-one")
        _terminate(engine, lock)
        lock.verify()  # nobody took it meanwhile: held again
        write_models(migrated.root, ONE_TASK.replace("PACKAGE", PACKAGE))
        refused = cli(migrated, "run")
        assert refused.returncode == 1
        assert "(run run-one," in " ".join(refused.stderr.split())
        lock.release()
    finally:
        engine.dispose()


def test_a_rebuilt_table_keeps_the_views_that_read_it(migrated: Settings) -> None:
    engine = make_engine(migrated.database_url)
    try:
        session = Session(engine)
        session.create_dataframe([{"v": 1}, {"v": 2}], name="base")
        base = session.table("base")
        base.where(base.v > 1).materialize("big", as_="view")
        session.refresh()
        session.table("big").with_column("w", session.table("big").v * 10).materialize(
            "bigger", as_="view"
        )
        session.create_dataframe([{"v": 5}, {"v": 1}, {"v": 7}], name="base")
        with engine.connect() as conn:
            assert sorted(conn.execute(text("SELECT v, w FROM bigger"))) == [(5, 50), (7, 70)]
    finally:
        engine.dispose()


def test_a_date_column_compares_with_a_date_written_as_a_string(migrated: Settings) -> None:
    engine = make_engine(migrated.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE games (id integer, day date, at timestamp)"))
            conn.execute(
                text(
                    "INSERT INTO games VALUES (1, '2022-12-30', '2022-12-30 20:00'),"
                    " (2, '2022-12-31', '2022-12-31 12:30')"
                )
            )
        games = Session(engine).table("games")
        assert [r.id for r in games.where(games.day == "2022-12-30").collect()] == [1]
        assert [r.id for r in games.where(games.at > "2022-12-31 00:00").collect()] == [2]
    finally:
        engine.dispose()


def _terminate(engine, lock: PostgresRunLock) -> None:  # type: ignore[no-untyped-def]
    """End the lock's connection on the server and wait until its advisory lock is gone."""
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": lock._conn_id})
        deadline = time.monotonic() + 10
        alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        while conn.scalar(alive, {"pid": lock._conn_id}):
            assert time.monotonic() < deadline, "the server never ended the connection"
            time.sleep(0.02)
