"""First run: from `cookiecutter` to the example pipeline's first successful run.

Two new users side by side in one run, each in a fresh folder: the same four steps (bake,
`make install` of the lock, `make migrate`, `make run`), one installing with pip, the other
with uv on PATH (which `make install` then uses). Both package caches are warm: pip's from the
demo project `make bench` installed first, uv's from an untimed install of the same lock into a
throwaway venv. Goal: the uv path under 30 s.

    .venv/bin/python benchmarks/first_run.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
STEPS = ("bake", "install", "migrate", "run")
GOAL_SECONDS = 30.0


def uv_binary() -> Path | None:
    """uv beside this interpreter (the template's test tools include it), else on PATH."""
    beside = Path(sys.executable).with_name("uv")
    if beside.exists():
        return beside
    found = shutil.which("uv")
    return Path(found) if found else None


def step(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds one command takes; its output is shown only when it fails."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed in {cwd}:\n{done.stdout}{done.stderr}")
    return elapsed


def first_run(folder: Path, env: dict[str, str], make_args: list[str]) -> dict[str, float]:
    """Bake the defaults into ``folder``, install, migrate and run; seconds of each step."""
    cookiecutter = str(Path(sys.executable).with_name("cookiecutter"))
    bake = [cookiecutter, "--no-input", "--output-dir", str(folder), str(TEMPLATE)]
    times = {"bake": step(bake, folder, env)}
    project = folder / "my-pipeline"
    for name in STEPS[1:]:
        times[name] = step(["make", name, *make_args], project, env)
    return times


def warm_uv_cache(uv: Path, env: dict[str, str], scratch: Path) -> float:
    """Install the default bake's lock once into a throwaway venv, so uv's cache holds it."""
    cookiecutter = str(Path(sys.executable).with_name("cookiecutter"))
    step([cookiecutter, "--no-input", "--output-dir", str(scratch), str(TEMPLATE)], scratch, env)
    lock = scratch / "my-pipeline" / "requirements-dev.txt"
    started = time.perf_counter()
    step([str(uv), "venv", "--quiet", str(scratch / "venv")], scratch, env)
    install = [str(uv), "pip", "install", "--quiet", "--require-hashes", "-r", str(lock)]
    step(install, scratch, {**env, "UV_PYTHON": str(scratch / "venv" / "bin" / "python")})
    return time.perf_counter() - started


def main() -> int:
    uv = uv_binary()
    if uv is None:
        print("uv is not installed (pip install uv): only the pip path can be measured")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PIP", "UV_PYTHON")}
    no_uv = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not (Path(p) / "uv").exists()
    )
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="first-run-") as scratch:
        root = Path(scratch)
        for name in ("pip", "uv", "warm", "bin"):
            (root / name).mkdir()
        pip_env = {**env, "PATH": no_uv}
        results["pip"] = first_run(root / "pip", pip_env, [])
        if uv is not None:
            # uv alone on PATH, not the rest of the folder it came from.
            (root / "bin" / "uv").symlink_to(uv)
            uv_env = {**env, "PATH": os.pathsep.join([str(root / "bin"), no_uv])}
            warmed = warm_uv_cache(uv, uv_env, root / "warm")
            print(f"(uv's cache warmed by an untimed install of the lock: {warmed:.1f} s)")
            results["uv"] = first_run(root / "uv", uv_env, [])
    return report(results)


def report(results: dict[str, dict[str, float]]) -> int:
    print("first run of the default bake: bake, make install, make migrate, make run (seconds)")
    print(f"  {'path':<16}" + "".join(f"{s:>9}" for s in STEPS) + f"{'total':>9}")
    for name, times in results.items():
        label = "pip (make demo)" if name == "pip" else "uv on PATH"
        cells = "".join(f"{times[s]:9.1f}" for s in STEPS)
        print(f"  {label:<16}{cells}{sum(times.values()):9.1f}")
    if "uv" not in results:
        print(f"goal: first run under {GOAL_SECONDS:.0f} s with uv: NOT MEASURED")
        return 1
    fast, slow = sum(results["uv"].values()), sum(results["pip"].values())
    print(f"  uv path {slow / fast:.1f}x faster than the pip path")
    met = fast < GOAL_SECONDS
    print(
        f"goal: first run under {GOAL_SECONDS:.0f} s ({fast:.1f} s): {'MET' if met else 'NOT MET'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
