"""The run ledger's background writer: a batch the database refuses for a moment (busy, or a
dropped connection) is written again, once, instead of being lost."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest
from engine_support import migrated
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.engine import make_url

from {{ cookiecutter.package_name }}.db.ledger import Ledger, LedgerWriter
from {{ cookiecutter.package_name }}.db.models import TaskLatest
from {{ cookiecutter.package_name }}.errors import DatabaseError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.system import utcnow

__all__ = ["migrated"]
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
RUN = "20260101T000000-00000000"


@pytest.fixture
def impatient(migrated: Settings) -> Iterator[Engine]:
    """An engine on the project's SQLite file that gives up on a busy database at once."""
    engine = create_engine(migrated.database_url, connect_args={"timeout": 0.01})
    now = utcnow()
    run = {
        "id": RUN,
        "started_at": now,
        "heartbeat_at": now,
        "status": "running",
        "selection": "{}",
        "host": "here",
        "pid": 1,
    }
    Ledger(engine).open_run(run, now)
    yield engine
    engine.dispose()


def _busy(engine: Engine) -> sqlite3.Connection:
    """Another connection holding SQLite's write lock."""
    blocker = sqlite3.connect(make_url(engine.url).database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    return blocker


def _row(task: str, status: str) -> dict:  # type: ignore[type-arg]
    return {"task": task, "attempt": 1, "status": status, "started_at": utcnow()}


@ON_SQLITE
def test_a_batch_refused_while_the_database_is_busy_is_written_once_it_is_free(
    impatient: Engine,
) -> None:
    writer = LedgerWriter(impatient, RUN, linger_s=0)
    writer.put(_row("first", "success"))
    writer.flush()
    blocker = _busy(impatient)
    writer.put(_row("second", "running"))
    writer.put(_row("first", "running"))  # no: a later state of an already-written attempt
    writer.put(_row("first", "success"))
    time.sleep(0.3)  # the writer has been refused at least once by now
    blocker.rollback()
    blocker.close()
    writer.close()
    rows = Ledger(impatient).task_rows(RUN)
    assert sorted((r.task, r.attempt, r.status) for r in rows) == [
        ("first", 1, "success"),
        ("second", 1, "running"),
    ]
    with impatient.connect() as conn:
        latest = dict(conn.execute(select(TaskLatest.task, TaskLatest.last_status)).all())
    assert latest == {"first": "success", "second": "running"}


@ON_SQLITE
def test_a_database_busy_for_longer_than_the_retry_window_is_reported(impatient: Engine) -> None:
    writer = LedgerWriter(impatient, RUN, linger_s=0, retry_for_s=0.2)
    blocker = _busy(impatient)
    try:
        writer.put(_row("first", "running"))
        with pytest.raises(DatabaseError, match="could not write the run ledger"):
            writer.close()
    finally:
        blocker.rollback()
        blocker.close()


@ON_SQLITE
def test_a_batch_whose_commit_fails_is_written_whole_on_the_next_try(
    impatient: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit, refused = impatient.dialect.do_commit, []

    def refuse_once(dbapi_connection: sqlite3.Connection) -> None:
        if not refused:
            refused.append(True)
            raise sqlite3.OperationalError("database is locked")
        commit(dbapi_connection)

    monkeypatch.setattr(impatient.dialect, "do_commit", refuse_once)
    writer = LedgerWriter(impatient, RUN, linger_s=0)
    writer.put(_row("first", "success"))
    writer.close()
    assert refused
    rows = Ledger(impatient).task_rows(RUN)
    assert [(r.task, r.status) for r in rows] == [("first", "success")]
    with impatient.connect() as conn:
        latest = dict(conn.execute(select(TaskLatest.task, TaskLatest.last_status)).all())
    assert latest == {"first": "success"}  # inserted again, not updated: the first never landed


@ON_SQLITE
def test_a_batch_whose_commit_landed_but_whose_reply_was_lost_is_not_written_twice(
    impatient: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that drops the connection right after a COMMIT has committed: the writer cannot
    tell from the error, so before trying again it looks whether the batch is there."""
    commit, lost = impatient.dialect.do_commit, []

    def lose_the_reply_once(dbapi_connection: sqlite3.Connection) -> None:
        commit(dbapi_connection)
        if not lost:
            lost.append(True)
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(impatient.dialect, "do_commit", lose_the_reply_once)
    writer = LedgerWriter(impatient, RUN, linger_s=0)
    writer.put(_row("first", "running"))
    writer.flush()
    writer.put({**_row("first", "success"), "finished_at": utcnow()})
    writer.close()
    assert lost
    rows = Ledger(impatient).task_rows(RUN)
    assert [(r.task, r.status) for r in rows] == [("first", "success")]
    with impatient.connect() as conn:
        latest = dict(conn.execute(select(TaskLatest.task, TaskLatest.last_status)).all())
    assert latest == {"first": "success"}
