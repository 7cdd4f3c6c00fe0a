"""One wheelhouse for the venvs of every bake, and the environment of a bake's `make install`.

Each bake's venv is installed by its own `make install`, as a new user would; what they share is
``build/wheelhouse``: every dependency of the generated project (all extras, and the build
backend) is downloaded or built once per template checkout, then installed from there without
asking an index. It is filled again when the generated pyproject's requirements change.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from manifest import TEMPLATE

WHEELHOUSE = TEMPLATE / "build" / "wheelhouse"
STAMP = WHEELHOUSE / ".requirements.json"
HERE = f"{sys.version_info.major}.{sys.version_info.minor}"


def requirements(project: Path) -> dict[str, Any]:
    """What a baked project installs: its build backend, dependencies and every extra."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        "name": pyproject["project"]["name"],
        "build": pyproject["build-system"]["requires"],
        "dependencies": pyproject["project"]["dependencies"],
        "extras": pyproject["project"].get("optional-dependencies", {}),
        "python": HERE,
    }


def fill_wheelhouse(project: Path) -> Path:
    """Wheels for everything ``project`` (a bake) installs, for this Python; built by whichever
    xdist worker asks first, while the others wait on the lock."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    wanted = requirements(project)
    stamp = json.dumps(wanted, sort_keys=True)
    with open(WHEELHOUSE / ".lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.is_file() and STAMP.read_text(encoding="utf-8") == stamp:
            return WHEELHOUSE
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(WHEELHOUSE)]
        command += [f"{project}[{','.join(wanted['extras'])}]", *wanted["build"]]
        subprocess.run(command, check=True, timeout=1800)
        for own in WHEELHOUSE.glob(f"{wanted['name'].replace('-', '_')}-*.whl"):
            own.unlink()  # the bake's own wheel: every bake installs its own source, editable
        STAMP.write_text(stamp, encoding="utf-8")
    return WHEELHOUSE


def install_env(python_version: str, wheelhouse: Path) -> dict[str, str]:
    """The environment of `make install` for a bake that chose ``python_version``.

    That Python when the machine has it. Else this one, told to ignore the bake's
    ``requires-python``: the framework's code is the same for every version offered (the choice
    sets requires-python, black's target, the Dockerfile and CI), and a machine with one Python
    must still install and test every option set.
    """
    chosen = shutil.which(f"python{python_version}")
    if chosen and python_version != HERE:
        return {"PYTHON": chosen}  # wheels for that Python: from the index, via pip's own cache
    env = {"PYTHON": sys.executable, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse)}
    if python_version != HERE:
        env["PIP_IGNORE_REQUIRES_PYTHON"] = "1"
    return env
