"""Run every benchmarks/bench_*.py in turn (`make bench`), then list every goal line they printed.

Each script runs our code beside its baseline and prints its ratios with their goals; a script
that exits non-zero, or prints a goal line saying "not met" or "missed", counts as a miss, and
this one then exits 1, after running the rest (one slow machine should not hide the other figures).

    .venv/bin/python benchmarks/run_all.py [bench_engine.py ...]
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# A line stating a goal and whether it held: "goal ...: MET", "(goal <= 2x): NOT met", ...
GOAL_LINE = re.compile(r"\bgoal\b.*\b(met|missed)\b", re.IGNORECASE)
# A goal line that reports a miss, whatever the script's exit code says.
MISSED = re.compile(r"\b(not met|missed)\b", re.IGNORECASE)


def run(script: Path) -> tuple[int, list[str], float]:
    """Run one benchmark, echoing its output as it comes; its exit code, goal lines, seconds."""
    started = time.perf_counter()
    goals = []
    with subprocess.Popen(
        [sys.executable, "-u", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if GOAL_LINE.search(line):
                goals.append(line.strip())
    return process.returncode, goals, time.perf_counter() - started


def main(names: list[str]) -> int:
    scripts = [HERE / name for name in names] or sorted(HERE.glob("bench_*.py"))
    failed = []
    summary = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        code, goals, seconds = run(script)
        if code != 0 or any(MISSED.search(goal) for goal in goals):
            failed.append(script.name)
        summary.append(f"{script.name} ({seconds:.0f} s, exit {code})")
        summary.extend(f"  {goal}" for goal in goals)
    print("\n== every goal")
    print("\n".join(summary))
    print(f"goals not met in: {', '.join(failed)}" if failed else "every goal met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
