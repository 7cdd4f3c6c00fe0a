"""Dask executor benchmarks, each side by side with its baseline in one run, on one
LocalCluster of 2 worker processes (one thread each):

1. Overhead per no-op task: the whole pipeline run on the Dask executor (ledger recorded on
   SQLite) vs raw ``client.submit`` of the same 200-task random DAG (records nothing).
   Goal: within 1.1x. The executor submits each task ahead, behind its parents' futures, so
   the scheduler starts it without a round trip through the engine; the run prints how many
   of those submissions the engine adopted.
2. A 40-task DAG of CPU-bound Python tasks (~200 ms each): the Dask executor with 2 worker
   processes vs the thread executor with 2 threads (which the GIL serialises), with raw
   ``client.submit`` of the same graph beside it as the most the machine gives at that moment.
   Goal: at least 1.85x faster on 2 cores.

Measured on 2 shared cores busy with other work (load average 5-10, so both sides slow down
and figures move by 15% from run to run): per added task 4.76 ms vs raw 3.20 ms (1.48x, whole
runs 1.57x; at load 10, 8.12 vs 6.18 ms, 1.31x), where submitting each task only after the
engine had seen its parents finish measured 5.73 vs 3.05 ms (1.88x). What is left is driver
CPU shared with the scheduler: the ledger writer's SQLite commits (~0.7 ms a task) and
loading the DAG (~0.3 ms a task). CPU-bound: 4.59 s on Dask vs 7.23 s on threads (1.57x)
while raw client.submit of the same graph managed 4.06 s (1.78x) at that moment.

    python benchmarks/bench_dask.py [--tasks 200] [--cpu-tasks 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from distributed import Client, LocalCluster
from scratch_project import PACKAGE, copy_project, migrated_settings

from {{ cookiecutter.package_name }}.core.dask_executor import DaskExecutor
from {{ cookiecutter.package_name }}.core.report import RunObserver
from {{ cookiecutter.package_name }}.core.runner import run_pipeline
from {{ cookiecutter.package_name }}.settings import Settings

SEED = 7
OVERHEAD_GOAL = 1.1
SPEEDUP_GOAL = 1.85

MODELS = """
    import random

    from PACKAGE.core.task import Task


    def spin(rounds):
        # pure Python on purpose: threads cannot run it in parallel (the GIL)
        total = 0
        for _ in range(rounds):
            total += sum(range(500))
        return total


    def build(prefix, size, body, layer, seed=SEED):
        # random DAG: each task depends on 0-2 tasks of the previous `layer` tasks' block
        rng = random.Random(seed)
        made = []
        for index in range(size):
            start = (index // layer - 1) * layer
            window = made[max(0, start):max(0, start + layer)]
            deps = rng.sample(window, k=min(len(window), rng.randint(0, 2)))
            made.append(Task(name=f"{prefix}{index}", depends_on=deps)(body))
        return made


    def noop():
        return None


    def cpu():
        spin(CPU_ROUNDS)


    build("noop_", NOOP_TASKS, noop, layer=20)
    build("cpu_", CPU_TASKS, cpu, layer=20)
"""


class Quiet(RunObserver):
    """No output: the benchmark measures the engine, not the terminal."""


def rounds_for(seconds: float) -> int:
    """How many rounds of the CPU-bound body take ``seconds`` on one core here."""
    rounds, elapsed = 1000, 0.0
    while elapsed < 0.05:
        rounds *= 2
        started = time.perf_counter()
        total = 0
        for _ in range(rounds):
            total += sum(range(500))
        elapsed = time.perf_counter() - started
    return int(rounds * seconds / elapsed)


def make_project(folder: Path, noop_tasks: int, cpu_tasks: int, cpu_seconds: float) -> Settings:
    """A scratch project: this project's settings and migrations, the benchmark's models."""
    copy_project(folder)
    source = textwrap.dedent(MODELS).replace("PACKAGE", PACKAGE).replace("SEED", str(SEED))
    source = source.replace("NOOP_TASKS", str(noop_tasks)).replace("CPU_TASKS", str(cpu_tasks))
    source = source.replace("CPU_ROUNDS", str(rounds_for(cpu_seconds)))
    (folder / "models" / "bench.py").write_text(source, encoding="utf-8")
    return migrated_settings(folder)


def timed_run(settings: Settings, prefix: str, executor: object, workers: int) -> float:
    """Seconds for one full run of the tasks named ``prefix*`` (ledger included)."""
    started = time.perf_counter()
    report = run_pipeline(
        settings,
        select=[f"{prefix}*"],
        full_refresh=True,
        workers=workers,
        executor=executor,  # type: ignore[arg-type]
        observer=Quiet(),
    )
    elapsed = time.perf_counter() - started
    if report.status != "success":
        raise SystemExit(f"benchmark run failed: {report.errors}")
    return elapsed


def raw_submit(client: Client, settings: Settings, prefix: str) -> float:
    """Seconds for raw ``client.submit`` of the same graph, dependencies passed as futures."""
    from {{ cookiecutter.package_name }}.core.runner import load_dag

    dag = load_dag(settings)
    names = [n for n in dag.names if n.startswith(prefix) and (prefix[-1] == "_" or n == prefix)]
    started = time.perf_counter()
    futures = {}
    for name in names:  # topological order: parents are submitted first
        parents = [futures[p] for p in dag.upstream(name)]
        futures[name] = client.submit(_call, dag.tasks[name].func, *parents, pure=False)
    client.gather(list(futures.values()))
    return time.perf_counter() - started


def _call(func, *_parents):  # type: ignore[no-untyped-def]
    return func()


def best(samples: list[float]) -> float:
    """The fastest of several runs: the one least disturbed by other work on the machine."""
    return min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200, help="no-op tasks (benchmark 1)")
    parser.add_argument("--cpu-tasks", type=int, default=40, help="CPU-bound tasks (2)")
    parser.add_argument("--cpu-seconds", type=float, default=0.2, help="CPU time per task")
    parser.add_argument("--repeat", type=int, default=5, help="runs per side (best is kept)")
    args = parser.parse_args()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} (other work skews both sides)")
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_project(Path(tmp), args.tasks, args.cpu_tasks, args.cpu_seconds)
        sys.path.insert(0, str(settings.root))  # the driver side of raw submit imports models
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"allowed_failures": 0},
        )
        with Client(cluster, set_as_default=False) as client:
            dask = DaskExecutor(client=client, project_root=settings.root)
            timed_run(settings, "noop_", dask, 32)  # warm up: workers import the models
            raw_submit(client, settings, "noop_")
            # 32 attempts in flight: the scheduler, not the engine, decides what runs when
            ours = best([timed_run(settings, "noop_", dask, 32) for _ in range(args.repeat)])
            raw = best([raw_submit(client, settings, "noop_") for _ in range(args.repeat)])
            # one task: the per-run cost (lock, ledger, plugin) that no task adds to
            ours_one = best([timed_run(settings, "noop_0", dask, 32) for _ in range(args.repeat)])
            raw_one = best([raw_submit(client, settings, "noop_0") for _ in range(args.repeat)])
            per_ours = (ours - ours_one) / (args.tasks - 1) * 1000
            per_raw = (raw - raw_one) / (args.tasks - 1) * 1000
            ratio = per_ours / per_raw
            print(f"1. {args.tasks} no-op tasks, random DAG, 2 worker processes")
            print(
                f"   Dask executor (ledger on SQLite): {ours:7.3f} s in all, "
                f"{per_ours:6.2f} ms per added task (run cost {ours_one * 1000:.0f} ms)"
            )
            print(
                f"   raw client.submit               : {raw:7.3f} s in all, "
                f"{per_raw:6.2f} ms per added task"
            )
            print(f"   tasks submitted ahead and adopted by the engine: {dask.adopted}")
            print(
                f"   per-task ratio {ratio:.2f}x, whole runs {ours / raw:.2f}x; goal per-task "
                f"<= {OVERHEAD_GOAL}x: {'MET' if ratio <= OVERHEAD_GOAL else 'NOT MET'}"
            )

            cpu_repeat = min(args.repeat, 3)
            on_dask = best([timed_run(settings, "cpu_", dask, 32) for _ in range(cpu_repeat)])
            ceiling = best([raw_submit(client, settings, "cpu_") for _ in range(cpu_repeat)])
        cluster.close()
        threads = best([timed_run(settings, "cpu_", None, 2) for _ in range(cpu_repeat)])
        speedup = threads / on_dask
        print(
            f"2. {args.cpu_tasks} CPU-bound tasks of {args.cpu_seconds * 1000:.0f} ms, "
            f"random DAG, {os.cpu_count()} cores"
        )
        print(f"   Dask executor, 2 processes: {on_dask:7.3f} s")
        print(f"   thread executor, 2 threads: {threads:7.3f} s")
        print(
            f"   (raw client.submit, same graph: {ceiling:7.3f} s, {threads / ceiling:.2f}x: "
            f"the most this machine gives right now)"
        )
        print(
            f"   speed-up {speedup:.2f}x; goal >= {SPEEDUP_GOAL}x: "
            f"{'MET' if speedup >= SPEEDUP_GOAL else 'NOT MET'}"
        )


if __name__ == "__main__":
    main()
