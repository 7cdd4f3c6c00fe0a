"""Write the project's lock files with uv, or check that they still match pyproject.toml.

``requirements.txt`` pins what the Docker image installs (the dependencies, the dask extra and
the dashboard's when there is one); ``requirements-dev.txt`` pins every extra, dev tools
included, for ``make install``. Both are universal (one file for Linux, macOS and every Python
the project supports, with environment markers) and carry a sha256 hash for every file.

A lock cannot be re-resolved offline, so each one records the requirements it was resolved
from; ``--check`` compares that record with pyproject.toml and needs neither uv nor a network.

    python scripts/lock.py           # resolve both locks again (needs uv and the index)
    python scripts/lock.py --upgrade # the same, moving every pin to its newest release
    python scripts/lock.py --check   # exit 1 when pyproject.toml changed since the last lock
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = "requirements.txt"
DEV_LOCK = "requirements-dev.txt"
# The extras of the image; make install takes every extra.
RUNTIME_EXTRAS = ("dask", "dashboard")
MARK = "# declared: "
RECORD_HEADER = "# Resolved from (scripts/lock.py --check compares these with pyproject.toml):"


def pyproject(root: Path = ROOT) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


def extras(project: dict, dev: bool) -> list[str]:
    """The extras a lock covers: every one for the dev lock, the image's for the runtime one."""
    names = sorted(project.get("optional-dependencies", {}))
    return names if dev else [name for name in names if name in RUNTIME_EXTRAS]


def declared(project: dict, dev: bool) -> list[str]:
    """The requirements a lock is resolved from, one line each, in a fixed order."""
    lines = [f"requires-python {project['requires-python']}"]
    lines += [f"dependency {req}" for req in sorted(project["dependencies"])]
    for extra in extras(project, dev):
        lines += [f"{extra} {req}" for req in sorted(project["optional-dependencies"][extra])]
    return lines


def recorded(lock: Path) -> list[str]:
    """The declared requirements a lock file records (empty when it records none)."""
    if not lock.is_file():
        return []
    text = lock.read_text(encoding="utf-8")
    return [line[len(MARK) :] for line in text.splitlines() if line.startswith(MARK)]


def python_floor(line: str) -> tuple[int, ...]:
    """``requires-python >=3.12`` -> (3, 12)."""
    return tuple(int(part) for part in line.rpartition(">=")[2].split("."))


def matches(lock: list[str], wanted: list[str]) -> bool:
    """Same requirements, and resolved for the project's oldest Python or an older one: a
    universal lock made for 3.11 and up also holds for a project that starts at 3.12."""
    if not lock or lock[1:] != wanted[1:]:
        return False
    return python_floor(lock[0]) <= python_floor(wanted[0])


def stale(root: Path = ROOT) -> list[str]:
    """The lock files that do not match pyproject.toml's current requirements."""
    project = pyproject(root)["project"]
    locks = {RUNTIME_LOCK: False, DEV_LOCK: True}
    return [
        name
        for name, dev in locks.items()
        if not matches(recorded(root / name), declared(project, dev))
    ]


def compile_lock(root: Path, dev: bool, python: str, upgrade: bool = False) -> None:
    """Resolve one lock with ``uv pip compile`` and add the record of its requirements."""
    project = pyproject(root)["project"]
    output = DEV_LOCK if dev else RUNTIME_LOCK
    command = [sys.executable, "-m", "uv", "pip", "compile", "pyproject.toml", "--quiet"]
    command += ["--universal", "--generate-hashes", "--no-annotate", "--python-version", python]
    for extra in extras(project, dev):
        command += ["--extra", extra]
    if not dev:
        command += ["--constraint", DEV_LOCK]  # the image's versions are the tested ones
    command += ["--output-file", output] + (["--upgrade"] if upgrade else [])
    subprocess.run(command, cwd=root, check=True, env={**os.environ, "UV_NO_PROGRESS": "1"})
    record = [f"{MARK}{line}\n" for line in declared(project, dev)]
    with open(root / output, "a", encoding="utf-8") as lock:
        lock.write(f"\n{RECORD_HEADER}\n" + "".join(record))


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        outdated = stale()
        if outdated:
            print(
                f"{' and '.join(outdated)} no longer match the requirements in pyproject.toml: "
                "run `make lock` to resolve them again and commit the result.",
                file=sys.stderr,
            )
            return 1
        return 0
    python = pyproject()["project"]["requires-python"].removeprefix(">=")
    upgrade = "--upgrade" in argv[1:]  # newest releases, not the versions locked today
    compile_lock(ROOT, dev=True, python=python, upgrade=upgrade)
    compile_lock(ROOT, dev=False, python=python)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
