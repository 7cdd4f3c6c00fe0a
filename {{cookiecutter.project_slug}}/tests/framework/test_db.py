"""session_scope commits on success, rolls back on any exception, and always closes."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from {{ cookiecutter.package_name }}.db.base import Base
from {{ cookiecutter.package_name }}.db.engine import session_scope
from {{ cookiecutter.package_name }}.db.models import RunLock


@pytest.fixture
def tables(engine: Engine) -> Engine:
    Base.metadata.create_all(engine)
    return engine


def lock(name: str) -> RunLock:
    now = datetime.utcnow()
    return RunLock(name=name, run_id="r1", host="h", pid=1, acquired_at=now, heartbeat_at=now)


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(RunLock)).scalar_one()


def test_commits_on_success(tables: Engine) -> None:
    with session_scope(tables) as session:
        session.add(lock("a"))
    assert count(tables) == 1


def test_rolls_back_on_an_exception_and_reraises_it(tables: Engine) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with session_scope(tables) as session:
            session.add(lock("a"))
            session.flush()
            raise RuntimeError("boom")
    assert count(tables) == 0


def test_rolls_back_on_keyboard_interrupt(tables: Engine) -> None:
    with pytest.raises(KeyboardInterrupt):
        with session_scope(tables) as session:
            session.add(lock("a"))
            session.flush()
            raise KeyboardInterrupt
    assert count(tables) == 0


def test_always_closes_the_session(tables: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[Session] = []
    real_close = Session.close

    def spying_close(self: Session) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(Session, "close", spying_close)
    with session_scope(tables):
        pass
    with pytest.raises(ValueError):
        with session_scope(tables):
            raise ValueError
    assert len(closed) == 2 and closed[0] is not closed[1]


def test_orm_objects_stay_readable_after_commit(tables: Engine) -> None:
    with session_scope(tables) as session:
        row = lock("a")
        session.add(row)
    assert row.name == "a"
