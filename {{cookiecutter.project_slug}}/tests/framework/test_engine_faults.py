"""Interrupts and crashes, through the real command line in a subprocess: Ctrl-C, kill -9,
a second concurrent run, and ``--resume`` after a crash."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from engine_support import cli, migrated, run_rows, start_cli, task_rows, write_models

from {{ cookiecutter.package_name }}.faults import CRASH_ACTION_ENV, CRASH_AT_ENV
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]
pytestmark = pytest.mark.faults

BLOCKING = """
    import time
    from pathlib import Path
    from {{ cookiecutter.package_name }}.core.task import Task

    MARKS = Path(__file__).resolve().parents[1] / "marks"

    def mark(name):
        MARKS.mkdir(exist_ok=True)
        with open(MARKS / name, "a") as handle:
            handle.write("x")

    @Task()
    def first():
        mark("first")

    @Task(depends_on=[first])
    def blocker(run):
        mark("blocker")
        while not (MARKS / "go").exists():
            if run.should_stop():
                raise RuntimeError("asked to stop")
            time.sleep(0.02)

    @Task(depends_on=[blocker])
    def after():
        mark("after")
"""


# `quick` succeeds while `waiter` is running; an error of the engine's own after that success
# crashes the run with `waiter` still inside its body.
CRASH_BESIDE_A_RUNNING_TASK = """
    import time
    from pathlib import Path
    from {{ cookiecutter.package_name }}.core.task import Task

    HERE = Path(__file__).resolve().parents[1]

    @Task()
    def waiter(run):
        (HERE / "waiting").write_text("")
        deadline = time.monotonic() + 20
        while not run.should_stop() and time.monotonic() < deadline:
            time.sleep(0.02)
        (HERE / "waiter-ended").write_text("told to stop" if run.should_stop() else "timed out")

    @Task()
    def quick():
        while not (HERE / "waiting").exists():
            time.sleep(0.02)
"""


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared")
        time.sleep(0.02)


def wait_for_row(settings: Settings, task: str, status: str, timeout: float = 30) -> None:
    """Until the ledger has recorded ``task`` in ``status`` (rows are written asynchronously)."""
    deadline = time.monotonic() + timeout
    while not any(r.task == task and r.status == status for r in task_rows(settings)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{task} never recorded {status}")
        time.sleep(0.02)


def runs_of(marks: Path, name: str) -> int:
    path = marks / name
    return len(path.read_text()) if path.exists() else 0


def test_ctrl_c_cancels_the_run_and_leaves_nothing_running(migrated: Settings) -> None:
    write_models(migrated.root, BLOCKING)
    process = start_cli(migrated, "run")
    wait_for(migrated.root / "marks" / "blocker")
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert process.returncode == 130
    (run,) = run_rows(migrated)
    assert run.status == "cancelled" and run.finished_at is not None
    states = {r.task: (r.status, r.reason) for r in task_rows(migrated, run.id)}
    assert states == {
        "first": ("success", None),
        "blocker": ("cancelled", "stopped: the run was cancelled"),
        "after": ("cancelled", "not started: the run was cancelled"),
    }


def test_an_error_of_the_engine_stops_the_running_tasks_before_the_command_exits(
    migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Leaving a task thread running while the process exits let it crash the interpreter
    # (SIGSEGV in OpenSSL's exit-time cleanup, from a MySQL connection being opened) instead
    # of exiting 1 with the error.
    write_models(migrated.root, CRASH_BESIDE_A_RUNNING_TASK)
    monkeypatch.setenv(CRASH_AT_ENV, "runner.after_success")
    monkeypatch.setenv(CRASH_ACTION_ENV, "raise")
    done = cli(migrated, "run", "--workers", "2")
    assert done.returncode == 1, done.stderr
    assert "injected crash at runner.after_success" in done.stderr
    assert (migrated.root / "waiter-ended").read_text() == "told to stop"
    (crashed,) = run_rows(migrated)
    assert crashed.status == "crashed"
    assert {r.task: r.status for r in task_rows(migrated, crashed.id)} == {
        "quick": "success",
        "waiter": "crashed",
    }


def test_kill_9_is_marked_crashed_by_the_next_start_and_resume_completes_it(
    migrated: Settings,
) -> None:
    write_models(migrated.root, BLOCKING)
    marks = migrated.root / "marks"
    process = start_cli(migrated, "run")
    wait_for(marks / "blocker")
    wait_for_row(migrated, "blocker", "running")
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    (crashed,) = run_rows(migrated)
    assert crashed.status == "running"  # nobody could record anything

    (marks / "go").write_text("")
    done = cli(migrated, "run", "--resume")
    assert done.returncode == 0, done.stderr
    first_run, resumed = run_rows(migrated)
    assert first_run.status == "crashed"
    assert {r.task: r.status for r in task_rows(migrated, first_run.id)} == {
        "first": "success",
        "blocker": "crashed",
    }
    assert resumed.status == "success"
    assert {r.task: r.status for r in task_rows(migrated, resumed.id)} == {
        "blocker": "success",
        "after": "success",
    }
    assert (runs_of(marks, "first"), runs_of(marks, "after")) == (1, 1)


def test_a_second_run_is_refused_while_one_is_running(migrated: Settings) -> None:
    write_models(migrated.root, BLOCKING)
    marks = migrated.root / "marks"
    holder = start_cli(migrated, "run")
    try:
        wait_for(marks / "blocker")
        (holder_run,) = run_rows(migrated)
        second = cli(migrated, "run")
        assert second.returncode == 1
        message = " ".join(second.stderr.split())
        assert f"another run is in progress on this database (run {holder_run.id}" in message
        assert f"pid {holder.pid}" in message
    finally:
        (marks / "go").write_text("")
        holder.communicate(timeout=30)
    assert holder.returncode == 0
    assert len(run_rows(migrated)) == 1
