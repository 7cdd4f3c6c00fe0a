"""The Dask executor on a LocalCluster of two worker processes: the example pipeline, the
engine's properties on random DAGs, a worker killed mid-task, and Ctrl-C; and a worker started
apart, without the project's secrets, that runs on the settings the run resolved."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dask_support import client, on_dask
from engine_support import (
    SRC,
    graphs,
    migrated,
    models_body,
    random_dag,
    reload,
    run,
    run_rows,
    start_cli,
    task_rows,
    with_failures,
    write_models,
)
from faults_support import PACKAGE
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from {{ cookiecutter.package_name }}.settings import ExecutorSettings, Settings
from {{ cookiecutter.package_name }}.status import RunState, TaskState

distributed = pytest.importorskip("distributed")
from {{ cookiecutter.package_name }}.core.dask_executor import (  # noqa: E402
    DaskExecutor,
    executor_from_settings,
)

__all__ = ["client", "migrated"]
pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]

WHERE = """
    import os
    import time
    from pathlib import Path

    from PACKAGE.core.task import Task

    MARKS = Path(__file__).resolve().parents[1] / "marks"


    def mark(name, text=""):
        MARKS.mkdir(exist_ok=True)
        with open(MARKS / name, "a") as handle:
            handle.write(text + "\\n")


    @Task()
    def left():
        mark("pids", str(os.getpid()))


    @Task()
    def right():
        mark("pids", str(os.getpid()))


    @Task(depends_on=[left, right], retry=1, retry_delay=0.1)
    def victim(run):
        mark("pids", str(os.getpid()))
        if run.attempt == 1 and (MARKS / "kill-me").exists():
            mark("victim", str(os.getpid()))
            time.sleep(60)
""".replace("PACKAGE", PACKAGE)

PROPERTIES = """
    from PACKAGE.core.task import Task


    def body(run, config):
        with open(config["events"], "a") as handle:
            handle.write(f"start {run.task} {run.attempt}\\n")
        try:
            if run.attempt <= config["failures"]:
                raise RuntimeError(f"planned failure {run.attempt}")
        finally:
            with open(config["events"], "a") as handle:
                handle.write(f"end {run.task} {run.attempt}\\n")


    for index in range(12):
        Task(name=f"t{index}")(body)
""".replace("PACKAGE", PACKAGE)

BLOCKING = """
    import time
    from pathlib import Path

    from PACKAGE.core.task import Task

    MARKS = Path(__file__).resolve().parents[1] / "marks"


    @Task()
    def blocker(run):
        MARKS.mkdir(exist_ok=True)
        (MARKS / "blocker").write_text("")
        while not run.should_stop():
            time.sleep(0.02)
        (MARKS / "told-to-stop").write_text("")
        raise RuntimeError("asked to stop")


    @Task(depends_on=[blocker])
    def after():
        pass
""".replace("PACKAGE", PACKAGE)


# A secret that settings.yml reads from the environment: the driver has it, the worker does not.
SECRET_NAME, SECRET_VALUE = "PIPELINE_TEST_API_TOKEN", "token-only-the-driver-knows"

USES_THE_SECRET = """
    from PACKAGE.core.task import Task


    @Task()
    def probe(session, config):
        assert config["token"] == "SECRET_VALUE"
        return session.sql("SELECT 1 AS one")
""".replace("PACKAGE", PACKAGE).replace("SECRET_VALUE", SECRET_VALUE)


@pytest.fixture
def bare_worker(tmp_path: Path) -> Iterator[tuple[distributed.Client, Path]]:
    """A scheduler here and one worker process started apart, in another folder, with nothing
    of this environment but PATH and PYTHONPATH: as on another machine, it has none of the
    project's secrets. Yields the client and the worker's log file."""
    cluster = distributed.LocalCluster(
        n_workers=0, dashboard_address=None, scheduler_kwargs={"allowed_failures": 0}
    )
    log = tmp_path / "worker.log"
    command = [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address]
    command += ["--nthreads", "1", "--no-nanny", "--no-dashboard"]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SRC)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with open(log, "w", encoding="utf-8") as output:
        worker = subprocess.Popen(command, cwd=elsewhere, env=env, stdout=output, stderr=output)
    try:
        with distributed.Client(cluster, set_as_default=False) as dask_client:
            dask_client.wait_for_workers(1, timeout=120)
            yield dask_client, log
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        cluster.close()


def test_settings_choose_the_dask_executor_and_its_scheduler(settings: Settings) -> None:
    executor = ExecutorSettings(kind="dask", address="tcp://scheduler:8786", workers=3)
    chosen = executor_from_settings(settings.model_copy(update={"executor": executor}))
    assert isinstance(chosen, DaskExecutor)
    assert (chosen.address, chosen.workers) == ("tcp://scheduler:8786", 3)
    assert executor_from_settings(settings) is None  # kind: threads, the default


def test_the_example_pipeline_runs_on_two_worker_processes(client, migrated: Settings) -> None:
    for folder in ("models", "seeds"):
        shutil.copytree(PROJECT_ROOT / folder, migrated.root / folder)
    report = run(migrated, executor=on_dask(client, migrated), workers=2)
    assert report.status == "success", report.errors
    assert set(report.tasks.values()) == {TaskState.SUCCESS}
    rows = task_rows(migrated, report.run_id)
    assert sorted((r.task, r.attempt) for r in rows) == sorted((t, 1) for t in report.tasks)
    written = {r.task: r.rows_affected for r in rows}
    assert (written["task_two"], written["task_three"]) == (3, 3)


def test_a_worker_without_the_projects_secrets_runs_on_the_settings_the_run_resolved(
    bare_worker, migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, log = bare_worker
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)
    path = migrated.root / "settings.yml"
    block = "tasks:\n  probe:\n    token: ${" + SECRET_NAME + "}\n"
    path.write_text(path.read_text(encoding="utf-8").replace("tasks: {}", block), encoding="utf-8")
    write_models(migrated.root, USES_THE_SECRET)
    settings = reload(migrated)
    report = run(settings, executor=on_dask(client, settings), workers=1)
    assert report.status == RunState.SUCCESS, report.errors
    rows = task_rows(settings, report.run_id)
    assert [(r.task, r.status, r.rows_affected) for r in rows] == [("probe", TaskState.SUCCESS, 1)]
    assert SECRET_VALUE not in log.read_text(encoding="utf-8")


def test_tasks_run_in_the_worker_processes_not_the_driver(client, migrated: Settings) -> None:
    write_models(migrated.root, WHERE)
    report = run(migrated, executor=on_dask(client, migrated), workers=2)
    assert report.status == "success", report.errors
    pids = {int(p) for p in (migrated.root / "marks" / "pids").read_text().split()}
    workers = set(client.run(os.getpid).values())
    assert pids <= workers and os.getpid() not in pids


def test_a_worker_killed_mid_task_fails_the_attempt_and_the_retry_succeeds(
    client, migrated: Settings
) -> None:
    write_models(migrated.root, WHERE)
    marks = migrated.root / "marks"
    marks.mkdir()
    (marks / "kill-me").write_text("")
    executor = on_dask(client, migrated)
    killer = _kill_when_marked(marks / "victim")
    report = run(migrated, executor=executor, workers=2)
    killer.join()
    assert report.status == "success", report.errors
    rows = [(r.attempt, r.status) for r in task_rows(migrated) if r.task == "victim"]
    assert rows == [(1, "failed"), (2, "success")]
    (first,) = [r for r in task_rows(migrated) if r.task == "victim" and r.attempt == 1]
    assert "KilledWorker" in first.error
    client.wait_for_workers(2, timeout=60)


def _kill_when_marked(mark: Path):  # type: ignore[no-untyped-def]
    """A thread that SIGKILLs the worker process whose pid appears in ``mark``."""
    import threading

    def kill() -> None:
        deadline = time.monotonic() + 60
        while not mark.exists() or not mark.read_text().strip():
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        os.kill(int(mark.read_text().split()[0]), signal.SIGKILL)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


@hypothesis_settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=graphs())
def test_random_dags_with_random_failures_on_dask(client, migrated: Settings, graph) -> None:
    parents, failures, retries = graph
    body = models_body(migrated.root, PROPERTIES, module="prop")
    dag = random_dag(parents, retries, lambda _: body)
    events = migrated.root / f"events-{time.monotonic_ns()}.txt"
    settings = with_failures(migrated, events, failures)
    report = run(settings, dag=dag, full_refresh=True, executor=on_dask(client, settings))

    lines = events.read_text().split("\n") if events.exists() else []
    log = [(kind, name, int(attempt)) for kind, name, attempt in (l.split() for l in lines if l)]
    starts = [(name, attempt) for kind, name, attempt in log if kind == "start"]
    assert len(starts) == len(set(starts)), "an attempt started twice"
    position = {event: i for i, event in enumerate(log)}
    last_end = {name: i for (kind, name, _), i in position.items() if kind == "end"}
    for (kind, name, _), index in position.items():
        if kind == "start":
            for parent in dag.upstream(name):
                assert last_end[parent] < index, f"{name} started before {parent} ended"
    failed_for_good = {f"t{i}" for i, f in enumerate(failures) if f > retries[i]}
    blocked = set().union(*(dag.descendants(n) for n in failed_for_good))
    assert not (blocked & {name for name, _ in starts}), "a descendant of a failure ran"
    for name in dag.names:
        if name in blocked:
            assert report.tasks[name] == TaskState.UPSTREAM_FAILED
        elif name in failed_for_good:
            assert report.tasks[name] == TaskState.FAILED
        else:
            assert report.tasks[name] == TaskState.SUCCESS


def test_ctrl_c_tells_tasks_on_the_workers_to_stop(migrated: Settings) -> None:
    write_models(migrated.root, BLOCKING)
    process = start_cli(migrated, "run", "--executor", "dask", "--workers", "2")
    marks = migrated.root / "marks"
    deadline = time.monotonic() + 120
    while not (marks / "blocker").exists():
        assert time.monotonic() < deadline and process.poll() is None, "blocker never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert (marks / "told-to-stop").exists()
    (cancelled,) = run_rows(migrated)
    assert cancelled.status == "cancelled"
    states = {r.task: r.status for r in task_rows(migrated, cancelled.id)}
    assert states == {"blocker": "cancelled", "after": "cancelled"}
