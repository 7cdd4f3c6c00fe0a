"""Print how a bake's venv differs from its lock: the drift a `make lock UPGRADE=1` would bring.

    python tests/drift.py PROJECT    # PROJECT/.venv installed from the newest releases

Exits 0 either way: drift is news, not a failure (the bake's own suite says whether it matters).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from packaging.utils import canonicalize_name

from lockfile import for_environment

PROBE = "import json, packaging.markers as m; print(json.dumps(m.default_environment()))"


def installed(python: Path) -> dict[str, str]:
    """``{name: version}`` of a venv, the editable project left out."""
    freeze = [str(python), "-m", "pip", "freeze", "--exclude-editable"]
    lines = subprocess.run(freeze, capture_output=True, text=True, check=True).stdout.split()
    return {canonicalize_name(n): v for n, _, v in (line.partition("==") for line in lines)}


def drift(project: Path) -> list[str]:
    """One line per package whose version differs from the lock, or that only one side has."""
    python = project / ".venv" / "bin" / "python"
    probe = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, check=True)
    locked = for_environment(project / "requirements-dev.txt", json.loads(probe.stdout))
    newest = installed(python)
    return [
        f"{name:32} {locked.get(name, '-'):>16} -> {newest.get(name, '-')}"
        for name in sorted(locked.keys() | newest.keys())
        if locked.get(name) != newest.get(name)
    ]


def main(argv: list[str]) -> int:
    lines = drift(Path(argv[1]))
    print(f"{len(lines)} packages differ from the lock (locked -> newest):")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
