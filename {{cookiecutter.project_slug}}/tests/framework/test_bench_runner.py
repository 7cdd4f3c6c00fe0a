"""`make bench` runs every benchmark, even after one misses its goal, and ends with every goal
line and an exit code that says whether all were met."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

RUN_ALL = Path(__file__).resolve().parents[2] / "benchmarks" / "run_all.py"


def write_bench(folder: Path, name: str, lines: list[str], code: int) -> None:
    body = "".join(f"print({line!r})\n" for line in lines)
    (folder / name).write_text(f"import sys\n{body}sys.exit({code})\n", encoding="utf-8")


def test_every_benchmark_runs_and_every_goal_is_listed_at_the_end(tmp_path: Path) -> None:
    shutil.copy(RUN_ALL, tmp_path / "run_all.py")
    write_bench(tmp_path, "bench_a.py", ["a: 2.10x", "goal: within 2x: NOT MET"], 1)
    write_bench(tmp_path, "bench_b.py", ["b: 0.9x", "  ratio 0.9x (goal <= 1.1x): met"], 0)
    done = subprocess.run(
        [sys.executable, str(tmp_path / "run_all.py")], capture_output=True, text=True
    )
    assert done.returncode == 1
    summary = done.stdout.split("== every goal\n")[1].splitlines()
    assert summary[0].startswith("bench_a.py (") and summary[0].endswith("exit 1)")
    assert summary[1:4] == [
        "  goal: within 2x: NOT MET",
        summary[2],
        "  ratio 0.9x (goal <= 1.1x): met",
    ]
    assert summary[2].startswith("bench_b.py (") and summary[2].endswith("exit 0)")
    assert summary[-1] == "goals not met in: bench_a.py"


def test_all_goals_met_exits_0(tmp_path: Path) -> None:
    shutil.copy(RUN_ALL, tmp_path / "run_all.py")
    write_bench(tmp_path, "bench_a.py", ["goal: under 1 s: MET"], 0)
    done = subprocess.run(
        [sys.executable, str(tmp_path / "run_all.py")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.rstrip().endswith("every goal met")


def test_a_goal_line_saying_not_met_is_a_miss_even_when_the_script_exits_0(tmp_path: Path) -> None:
    shutil.copy(RUN_ALL, tmp_path / "run_all.py")
    write_bench(tmp_path, "bench_a.py", ["goal: under 1 s: MET"], 0)
    write_bench(tmp_path, "bench_b.py", ["ratio 1.4x (goal <= 1.2x): not met"], 0)
    write_bench(tmp_path, "bench_c.py", ["goal 1.1x: missed in 2 of 3 rounds"], 0)
    done = subprocess.run(
        [sys.executable, str(tmp_path / "run_all.py")], capture_output=True, text=True
    )
    assert done.returncode == 1, done.stdout
    assert done.stdout.rstrip().endswith("goals not met in: bench_b.py, bench_c.py")
