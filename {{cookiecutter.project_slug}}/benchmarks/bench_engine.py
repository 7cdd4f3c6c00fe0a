"""Engine benchmarks, each side by side with its baseline in one run:

1. Overhead per no-op task on chain, wide and random DAGs of 1,000 tasks (run history recorded
   on SQLite) vs ``dask.threaded.get`` (records nothing). Goal: at most 1.0x dask. Then the same
   at 20,000 tasks: the engine's per-task overhead must stay flat (goal: within 1.2x of its
   1,000-task figure; dask's own growth is printed beside it).
2. A 60-task I/O-bound DAG (sleeps of 10-100 ms, uneven levels, 8 workers) vs a level-by-level
   barrier executor (pydwt's approach) and the critical path. Goal: within 1.02x of the path.
3. A no-op re-run of a 200-task cached project: the whole ``run`` command, process start
   included, imports from the bytecode cache as in everyday use. Goal: under 0.5 s.
   Measured side by side with the start-up work undone (best of 9, 2 shared cores at load 6):
   1.02 s -> 0.73 s wall, 0.70 s -> 0.51 s CPU. On an idle machine the command took 0.79 s
   before (bytecode not cached), 0.64 s with the cache. Most of what remains is importing
   SQLAlchemy, pydantic, typer and rich; "import the engine" below still pays the interpreter's
   full clean-up at exit, which the command skips.

    python benchmarks/bench_engine.py        # every part
    python benchmarks/bench_engine.py 1 2    # only parts 1 and 2

Measured on a shared 2-core machine under a load average of 10-12 (so wall times are inflated
and noisy; CPU time per task, all threads, is the steadier figure), 4 workers, before -> after
the engine's scheduling and recording work:

    per no-op task, 1,000 tasks   wall (µs)      CPU (µs)      dask wall / CPU (µs)
    chain                         716 -> 318     273 -> 133    151-271 / 50-75
    wide                          410 -> 143     113 -> 94     63-344 / 52-98
    random                        462 -> 351     171 -> 109    159-205 / 55
    chain at 5,000 tasks          2616 -> 270    1027 -> 138   (was quadratic: every start
                                                               walked the task's ancestors)
    chain at 20,000 tasks         (minutes) -> 363   -> 133

Where a task's CPU goes now (chain, 1,000): ledger writer thread 39 µs (of which SQLite's own
executemany is most), run loop 41 µs, worker 29 µs, the rest per run (fingerprints, plan).
Three rounds of this script on an idle machine, this code: engine/dask 2.92-3.24x chain,
2.03-2.49x wide, 1.72-2.03x random (NOT MET); growth 20k/1k 0.88-1.00x chain, 1.06-1.13x wide,
1.00-1.23x random (met in 2 of 3). Part 2: 1.016-1.020x the critical path (MET; the level
barrier 1.20x). It was 1.21x when run after part 1 while a run still read the history of every
task name in the ledger (part 1 leaves 20,000). Part 3: 0.41-0.42 s (MET).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dask.threaded
from scratch_project import (
    PACKAGE,
    command_env,
    copy_project,
    migrated_settings,
    write_many_models,
)

from {{ cookiecutter.package_name }}.core.dag import Dag
from {{ cookiecutter.package_name }}.core.report import RunObserver
from {{ cookiecutter.package_name }}.core.runner import run_pipeline
from {{ cookiecutter.package_name }}.core.task import Task
from {{ cookiecutter.package_name }}.settings import Settings

SEED = 7
WORKERS = 4
LARGE = 20_000  # tasks in the flatness measurement
RATIO_GOAL = 1.0  # engine per-task overhead / dask.threaded.get's, at 1,000 tasks
GROWTH_GOAL = 1.2  # per-task overhead at LARGE tasks / at 1,000 tasks
PATH_GOAL = 1.02  # the I/O DAG's wall time / its critical path


def noop(*_: object) -> None:
    return None


def make_project(folder: Path) -> Settings:
    """A scratch project: this project's settings and migrations, a fresh SQLite database."""
    copy_project(folder)
    return migrated_settings(folder)


def shapes(size: int) -> dict[str, list[list[int]]]:
    """Parents of each node for a chain, a wide fan (one root, all others its children) and a
    random DAG (each node has up to 3 parents among the 20 before it)."""
    rng = random.Random(SEED)
    random_parents = [
        sorted(rng.sample(range(max(0, i - 20), i), min(i, rng.randint(0, 3)))) for i in range(size)
    ]
    return {
        "chain": [[i - 1] if i else [] for i in range(size)],
        "wide": [[0] if i else [] for i in range(size)],
        "random": random_parents,
    }


def name_of(index: int, size: int) -> str:
    """t0000..t0999 for 1,000 tasks, t00000..t19999 for 20,000: names sort in index order."""
    return f"t{index:0{len(str(size - 1))}d}"


def build_dag(parents: list[list[int]], func: Callable[..., object]) -> Dag:
    tasks: dict[str, Task] = {}
    size = len(parents)
    for i, ups in enumerate(parents):
        name = name_of(i, size)
        tasks[name] = Task(name=name, depends_on=[tasks[name_of(p, size)] for p in ups])(func)
    return Dag.from_tasks(tasks)


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(runs: int, **actions: Callable[[], object]) -> dict[str, float]:
    """Best time of each action, taking turns so a busy moment hits them all alike."""
    best = {name: float("inf") for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def per_task(settings: Settings, size: int, runs: int) -> dict[str, tuple[float, float]]:
    """Seconds per no-op task of the engine and of dask on each shape of ``size`` tasks."""
    figures = {}
    for shape, parents in shapes(size).items():
        dag = build_dag(parents, noop)
        graph = {
            name_of(i, size): (noop, *[name_of(p, size) for p in ups])
            for i, ups in enumerate(parents)
        }
        order = dag.names

        # Each closure runs within this iteration: defaults bind this shape's values.
        def ours(dag: Dag = dag) -> None:
            report = run_pipeline(
                settings, dag=dag, full_refresh=True, workers=WORKERS, observer=RunObserver()
            )
            assert report.status == "success", report.status

        def theirs(graph: dict[str, tuple[object, ...]] = graph, order: list[str] = order) -> None:
            dask.threaded.get(graph, order, num_workers=WORKERS)

        best = interleaved(runs, engine=ours, dask=theirs)
        figures[shape] = (best["engine"] / size, best["dask"] / size)
    return figures


def overhead(settings: Settings) -> bool:
    """Part 1: per-task overhead at 1,000 tasks against dask, then its growth at 20,000."""
    print(f"1. overhead per no-op task (run history recorded on SQLite), {WORKERS} workers")
    small, large = per_task(settings, 1000, 5), per_task(settings, LARGE, 2)
    print(f"   {'shape':8} {'tasks':>6} {'engine':>9} {'dask':>9} {'engine/dask':>12}")
    ok_ratio = ok_flat = True
    for shape in small:
        for size, figures in ((1000, small), (LARGE, large)):
            engine, theirs = figures[shape]
            print(
                f"   {shape:8} {size:>6} {engine * 1e6:7.0f}µs {theirs * 1e6:7.0f}µs "
                f"{engine / theirs:11.2f}x"
            )
        ok_ratio &= small[shape][0] / small[shape][1] <= RATIO_GOAL
    print(f"   {'shape':8} {'engine growth':>14} {'dask growth':>12}   (per task, 20k / 1k)")
    for shape in small:
        growth = large[shape][0] / small[shape][0]
        ok_flat &= growth <= GROWTH_GOAL
        print(f"   {shape:8} {growth:13.2f}x {large[shape][1] / small[shape][1]:11.2f}x")
    print(
        f"   goal: engine within {RATIO_GOAL:g}x of dask.threaded.get at 1,000 tasks: "
        f"{'MET' if ok_ratio else 'NOT MET'}"
    )
    print(
        f"   goal: per-task overhead at {LARGE:,} tasks within {GROWTH_GOAL:g}x of 1,000: "
        f"{'MET' if ok_flat else 'NOT MET'}"
    )
    return ok_ratio and ok_flat


def io_dag() -> tuple[list[list[int]], list[float]]:
    """60 tasks in 6 chains of 10, with a few cross links; each sleeps 10-100 ms."""
    rng = random.Random(SEED)
    parents: list[list[int]] = []
    for chain in range(6):
        for step in range(10):
            node = chain * 10 + step
            ups = [node - 1] if step else []
            if chain and step and rng.random() < 0.3:  # a link from an earlier chain
                ups.append(rng.randrange(chain) * 10 + step - 1)
            parents.append(sorted(ups))
    durations = [rng.uniform(0.010, 0.100) for _ in parents]
    return parents, durations


def critical_path(parents: list[list[int]], durations: list[float]) -> float:
    finish: list[float] = []
    for i, ups in enumerate(parents):
        finish.append(max((finish[p] for p in ups), default=0.0) + durations[i])
    return max(finish)


def level_barrier(parents: list[list[int]], durations: list[float], workers: int) -> None:
    """pydwt's way: run each level in parallel, wait for the whole level, then the next."""
    level: list[int] = []
    for ups in parents:
        level.append(max((level[p] + 1 for p in ups), default=0))
    with ThreadPoolExecutor(workers) as pool:
        for depth in range(max(level) + 1):
            nodes = [i for i, lv in enumerate(level) if lv == depth]
            list(pool.map(lambda i: time.sleep(durations[i]), nodes))


def io_bound(settings: Settings) -> bool:
    print("2. 60-task I/O-bound DAG (sleeps 10-100 ms), 8 workers (best of 3)")
    parents, durations = io_dag()
    sleeps = {name_of(i, len(durations)): seconds for i, seconds in enumerate(durations)}

    def sleeper(run) -> None:  # type: ignore[no-untyped-def]
        time.sleep(sleeps[run.task])

    dag = build_dag(parents, sleeper)
    path = critical_path(parents, durations)

    def ours() -> None:
        run_pipeline(settings, dag=dag, full_refresh=True, workers=8, observer=RunObserver())

    best = interleaved(3, engine=ours, barrier=lambda: level_barrier(parents, durations, 8))
    engine, barrier = best["engine"], best["barrier"]
    ok = engine / path <= PATH_GOAL
    print(f"   critical path   {path * 1000:7.0f} ms")
    print(f"   engine          {engine * 1000:7.0f} ms  {engine / path:.3f}x the critical path")
    print(f"   level barrier   {barrier * 1000:7.0f} ms  {barrier / path:.3f}x the critical path")
    print(
        f"   goal: engine within {PATH_GOAL:g}x of the critical path: {'MET' if ok else 'NOT MET'}"
    )
    return ok


def cached_rerun(folder: Path) -> bool:
    print("3. no-op re-run of a 200-task cached project (whole `run` command, best of 3)")
    settings = make_project(folder)
    write_many_models(folder)
    env = command_env(folder)
    # As in everyday use, imports come from the bytecode cache (the untimed first run fills it).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", PACKAGE, "run"]
    first = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr

    def rerun() -> None:
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
        assert done.returncode == 0 and "200 skipped" in done.stderr, done.stderr

    rerun_time = best_of(3, rerun)
    bare = best_of(3, lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
    imports = best_of(
        3,
        lambda: subprocess.run(
            [sys.executable, "-c", f"import {PACKAGE}.core.runner"], env=env, check=True
        ),
    )
    ok = rerun_time < 0.5
    print(f"   python -c pass          {bare * 1000:7.0f} ms")
    print(f"   import the engine       {imports * 1000:7.0f} ms")
    print(f"   `run`, all 200 cached   {rerun_time * 1000:7.0f} ms")
    print(f"   goal: under 0.5 s: {'MET' if ok else 'NOT MET'}")
    del settings
    return ok


def main(parts: list[str]) -> int:
    wanted = set(parts) or {"1", "2", "3"}
    print(f"load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        settings = make_project(Path(one))
        results = [overhead(settings)] if "1" in wanted else []
        results += [io_bound(settings)] if "2" in wanted else []
        results += [cached_rerun(Path(two))] if "3" in wanted else []
    print("all goals met" if all(results) else "some goals NOT met")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
