"""Random SIGKILL: the example pipeline killed at a random moment of its run, trial after trial.

After every kill its tables are complete (identical to a finished run's), and `run --resume`
completes the run without executing again any task the killed run recorded as successful,
leaving no shadow table. ``FAULT_TRIALS`` sets the number of trials per database (default 5) and
``FAULT_SEED`` the random seed.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
from engine_support import migrated, reload, run, run_rows, start_cli, task_rows
from faults_support import counts, leftovers, snapshot, with_counted_example

from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]
pytestmark = [pytest.mark.faults, pytest.mark.slow]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TABLES = ("predictions", "task_two", "task_three")
TASKS = ("load_predictions", "task_one", "task_two", "task_three", "task_four")
TRIALS = int(os.environ.get("FAULT_TRIALS", "5"))
SEED = int(os.environ.get("FAULT_SEED", "7"))


def test_random_kills_leave_whole_tables_and_resume_reruns_no_success(
    migrated: Settings,
) -> None:
    with_counted_example(migrated, PROJECT_ROOT)
    assert run(reload(migrated), full_refresh=True).status == "success"
    assert set(counts(migrated.root)) == set(TASKS)  # every execution leaves a mark
    finished = snapshot(migrated, TABLES)
    running_for = _timed_run(migrated)
    rng = random.Random(SEED)
    failures, in_run = [], 0
    for trial in range(TRIALS):
        delay = rng.uniform(0.0, running_for)
        before_runs = len(run_rows(migrated))
        process = start_cli(migrated, "run", "--full-refresh")
        _wait_for_run(migrated, before_runs, process)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        in_run += process.returncode == -signal.SIGKILL
        problem = _check_trial(migrated, finished, before_runs)
        if problem:
            failures.append(f"trial {trial} (kill {delay:.2f} s into the run): {problem}")
    print(
        f"random kill: {TRIALS} trials ({in_run} killed while running), "
        f"{len(failures)} failures, seed {SEED}"
    )
    assert not failures, "\n".join(failures)


def _timed_run(settings: Settings) -> float:
    """Seconds from the start of a run (its ledger row) to the end of the command."""
    before_runs = len(run_rows(settings))
    process = start_cli(settings, "run", "--full-refresh")
    _wait_for_run(settings, before_runs, process)
    started = time.monotonic()
    process.communicate(timeout=120)
    assert process.returncode == 0
    return time.monotonic() - started


def _wait_for_run(settings: Settings, before_runs: int, process) -> None:  # type: ignore[no-untyped-def]
    """Until the command has started its run (or ended): kills then land inside the run."""
    deadline = time.monotonic() + 60
    while len(run_rows(settings)) == before_runs and process.poll() is None:
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.01)


def _check_trial(settings: Settings, finished: dict, before_runs: int) -> str | None:
    """The invariants after one kill; a description of the first one broken, else None."""
    if snapshot(settings, TABLES) != finished:
        return "a table is missing or incomplete after the kill"
    killed = run_rows(settings)[before_runs:]
    succeeded = set()
    if killed:
        succeeded = {r.task for r in task_rows(settings, killed[0].id) if r.status == "success"}
    before = counts(settings.root)
    resumed = run(reload(settings), resume=True)
    if resumed.status != "success":
        return f"resume ended {resumed.status}: {resumed.errors}"
    if killed and run_rows(settings)[before_runs].status not in ("crashed", "success"):
        return f"the killed run is recorded {run_rows(settings)[before_runs].status}"
    after = counts(settings.root)
    again = sorted(name for name in succeeded if after.get(name, 0) != before.get(name, 0))
    if again:
        return f"resume re-ran tasks that had succeeded: {again}"
    if leftovers(settings):
        return f"shadow tables left: {leftovers(settings)}"
    if snapshot(settings, TABLES) != finished:
        return "tables differ from a finished run's after resume"
    return None
