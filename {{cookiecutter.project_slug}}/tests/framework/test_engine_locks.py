"""The run lock: one holder at a time, named in the refusal; dead holders are taken over."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from engine_support import migrated
from sqlalchemy import Engine, insert, select

from {{ cookiecutter.package_name }}.db.locks import LOCKS, TableRunLock
from {{ cookiecutter.package_name }}.errors import RunLockedError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.system import pid_alive

__all__ = ["migrated"]


def utc(minutes_ago: float = 0) -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=minutes_ago)


def plant(engine: Engine, *, host: str, pid: int, minutes_ago: float) -> None:
    """A lock row as another process would have left it."""
    with engine.begin() as conn:
        conn.execute(
            insert(LOCKS).values(
                name="pipeline",
                run_id="other-run",
                host=host,
                pid=pid,
                acquired_at=utc(minutes_ago),
                heartbeat_at=utc(minutes_ago),
            )
        )


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def locked_engine(migrated: Settings, engine: Engine) -> Engine:
    return engine


def test_a_held_lock_refuses_a_second_holder_naming_the_first(locked_engine: Engine) -> None:
    first = TableRunLock(locked_engine)
    first.acquire("run-1")
    try:
        with pytest.raises(RunLockedError) as caught:
            TableRunLock(locked_engine).acquire("run-2")
        assert (caught.value.run_id, caught.value.pid) == ("run-1", os.getpid())
    finally:
        first.release()


def test_release_lets_the_next_run_in(locked_engine: Engine) -> None:
    with TableRunLock(locked_engine) as lock:
        lock.acquire("run-1")
    second = TableRunLock(locked_engine)
    second.acquire("run-2")
    second.release()


def test_a_lock_of_a_dead_process_on_this_host_is_taken_over(locked_engine: Engine) -> None:
    lock = TableRunLock(locked_engine)
    plant(locked_engine, host=lock.host, pid=dead_pid(), minutes_ago=0)
    lock.acquire("run-2")
    assert lock.holder().run_id == "run-2"
    lock.release()


def test_a_lock_of_another_host_is_kept_while_its_heartbeat_is_fresh(locked_engine) -> None:
    plant(locked_engine, host="elsewhere", pid=1, minutes_ago=0)
    with pytest.raises(RunLockedError, match="host elsewhere, pid 1"):
        TableRunLock(locked_engine).acquire("run-2")


def test_a_lock_of_another_host_without_heartbeat_is_taken_over(locked_engine) -> None:
    plant(locked_engine, host="elsewhere", pid=1, minutes_ago=10)
    lock = TableRunLock(locked_engine, stale_after_s=60)
    lock.acquire("run-2")
    with locked_engine.connect() as conn:
        assert conn.execute(select(LOCKS.c.run_id)).scalars().all() == ["run-2"]
    lock.release()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="zombies are read from /proc")
def test_a_lock_of_a_zombie_holder_on_this_host_is_taken_over(locked_engine: Engine) -> None:
    """A holder killed with -9 stays a zombie until its parent reaps it: it holds nothing."""
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        while not _is_zombie(zombie.pid):
            time.sleep(0.01)
        lock = TableRunLock(locked_engine)
        plant(locked_engine, host=lock.host, pid=zombie.pid, minutes_ago=0)
        lock.acquire("run-2")
        assert lock.holder().run_id == "run-2"
        lock.release()
    finally:
        zombie.wait()


def test_a_lock_whose_pid_was_reused_is_taken_over_once_its_heartbeat_is_stale(
    locked_engine: Engine,
) -> None:
    """After a container restart the old holder's pid may belong to a live stranger."""
    lock = TableRunLock(locked_engine, stale_after_s=60)
    plant(locked_engine, host=lock.host, pid=os.getppid(), minutes_ago=10)
    lock.acquire("run-2")
    assert lock.holder().run_id == "run-2"
    lock.release()


def test_a_live_holder_on_this_host_with_a_fresh_heartbeat_keeps_the_lock(
    locked_engine: Engine,
) -> None:
    lock = TableRunLock(locked_engine, stale_after_s=60)
    plant(locked_engine, host=lock.host, pid=os.getppid(), minutes_ago=0.1)
    with pytest.raises(RunLockedError, match=f"pid {os.getppid()}"):
        lock.acquire("run-2")


def _is_zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def test_pid_alive_tells_live_from_dead() -> None:
    assert pid_alive(os.getpid()) and not pid_alive(dead_pid())
