"""Four `run` commands started at once on one database: exactly one runs, the others exit at
once naming the holder, and every task runs exactly once."""

from __future__ import annotations

import time

import pytest
from engine_support import migrated, run_rows, start_cli, write_models
from faults_support import PACKAGE, counts

from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]
pytestmark = [pytest.mark.faults, pytest.mark.slow]

SLOW_PIPELINE = """
    import time
    from pathlib import Path

    from PACKAGE.core.task import Task

    COUNTS = Path(__file__).resolve().parents[1] / "counts"


    def bump(name):
        COUNTS.mkdir(exist_ok=True)
        with open(COUNTS / name, "a") as handle:
            handle.write("x")


    @Task()
    def first():
        bump("first")
        time.sleep(2.0)


    @Task(depends_on=[first])
    def second():
        bump("second")
        time.sleep(2.0)
""".replace("PACKAGE", PACKAGE)


def test_four_simultaneous_runs_one_runs_the_others_name_it(migrated: Settings) -> None:
    write_models(migrated.root, SLOW_PIPELINE)
    processes = [start_cli(migrated, "run") for _ in range(4)]
    started = time.monotonic()
    ended = {}
    outputs = {}
    while len(ended) < len(processes):
        for index, process in enumerate(processes):
            if index not in ended and process.poll() is not None:
                ended[index] = time.monotonic() - started
                outputs[index] = process.communicate()
        time.sleep(0.02)

    winners = [i for i, p in enumerate(processes) if p.returncode == 0]
    assert len(winners) == 1, [p.returncode for p in processes]
    (holder_run,) = run_rows(migrated)
    assert holder_run.status == "success"
    assert holder_run.pid == processes[winners[0]].pid
    for index, process in enumerate(processes):
        if index == winners[0]:
            continue
        assert process.returncode == 1
        message = " ".join(outputs[index][1].split())
        assert f"another run is in progress on this database (run {holder_run.id}" in message
        assert f"pid {holder_run.pid}" in message
        assert ended[index] < ended[winners[0]], "a refused run waited for the holder"
    assert counts(migrated.root) == {"first": 1, "second": 1}
