"""One wheelhouse for the venvs of every bake, and the environment of a bake's `make install`.

Each bake's venv is installed by its own `make install`, as a new user would: exactly its lock
file, hash-checked. What they share is ``build/wheelhouse``: every file the widest lock pins
(PostgreSQL, the dashboard, every extra; the other locks pin the same versions, see
``locks.py``) and the build backend, downloaded once per template checkout, then installed from
there without asking an index. It is filled again when that lock changes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from locks import WIDEST
from manifest import TEMPLATE

WHEELHOUSE = TEMPLATE / "build" / "wheelhouse"
STAMP = WHEELHOUSE / ".requirements.sha256"
HERE = f"{sys.version_info.major}.{sys.version_info.minor}"


def build_requirements(project: Path) -> list[str]:
    """The bake's build backend: `make install` builds the project itself, editable."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["build-system"]["requires"]


def fill_wheelhouse(project: Path) -> Path:
    """Wheels for every file the locks pin (for this Python) and ``project``'s build backend;
    made by whichever xdist worker asks first, while the others wait on the lock."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    build = build_requirements(project)
    stamp = hashlib.sha256(WIDEST.read_bytes() + repr((build, HERE)).encode()).hexdigest()
    with open(WHEELHOUSE / ".lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.is_file() and STAMP.read_text(encoding="utf-8") == stamp:
            return WHEELHOUSE
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(WHEELHOUSE)]
        subprocess.run([*command, "--require-hashes", "-r", str(WIDEST)], check=True, timeout=1800)
        subprocess.run([*command, *build], check=True, timeout=600)
        STAMP.write_text(stamp, encoding="utf-8")
    return WHEELHOUSE


def install_env(python_version: str, wheelhouse: Path, *, uv: bool = False) -> dict[str, str]:
    """The environment of `make install` for a bake that chose ``python_version``.

    That Python when the machine has it. Else this one, told to ignore the bake's
    ``requires-python``: the framework's code is the same for every version offered (the choice
    sets requires-python, black's target, the Dockerfile and CI), and a machine with one Python
    must still install and test every option set.

    ``uv``: uv on PATH, so the Makefile creates the venv with uv and installs with its pip
    interface (the same lock and hashes in seconds instead of a minute): offline from the
    wheelhouse for this machine's Python, from the index through uv's cache for another.
    """
    chosen = shutil.which(f"python{python_version}")
    uv_pip = {"PATH": os.pathsep.join([str(_uv_alone(wheelhouse)), os.environ.get("PATH", "")])}
    if chosen and python_version != HERE:
        # Wheels for that Python come from the index, through the installer's own cache.
        return {"PYTHON": chosen, **(uv_pip if uv else {})}
    # Beside the wheelhouse, a release of coverage newer than the lock's, as a real index has
    # one: an install that let pip resolve dependencies would reach for it (see _newer_release).
    links = f"{wheelhouse} {_newer_release(wheelhouse)}"
    env = {"PYTHON": sys.executable, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": links}
    if python_version != HERE:
        env["PIP_IGNORE_REQUIRES_PYTHON"] = "1"
    elif uv:
        env.update(uv_pip, UV_CONFIG_FILE=str(_uv_offline(wheelhouse)))
    return env


def _newer_release(wheelhouse: Path) -> Path:
    """A folder with a wheel of coverage 999.0, newer than any lock pins.

    An index always has releases newer than a lock, and that is what broke `make install` for
    new users once: pip before 24 resolved pytest-cov's ``coverage[toml]`` against the newest
    coverage instead of the pinned one and refused the hash-checked install (pypa/pip#9644). The
    wheelhouse alone holds only the pinned files, so without this folder the suite could not
    see that failure again.
    """
    folder = wheelhouse.parent / "newer-release"
    wheel = folder / "coverage-999.0-py3-none-any.whl"
    if wheel.exists():
        return folder
    folder.mkdir(exist_ok=True)
    info = "coverage-999.0.dist-info"
    files = {
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: coverage\nVersion: 999.0\n"
        "Provides-Extra: toml\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = [f"{name},,\n" for name in files] + [f"{info}/RECORD,,\n"]
    partial = folder / f"coverage.{os.getpid()}"
    with zipfile.ZipFile(partial, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"{info}/RECORD", "".join(record))
    os.replace(partial, wheel)  # whole, whichever worker writes it
    return folder


def _uv_alone(wheelhouse: Path) -> Path:
    """A folder holding only uv (not the rest of this venv's bin/), to put first on PATH."""
    folder = wheelhouse.parent / "uv-bin"
    folder.mkdir(exist_ok=True)
    link = folder / "uv"
    if not link.exists():
        partial = folder / f"uv.{os.getpid()}"
        partial.unlink(missing_ok=True)
        partial.symlink_to(Path(sys.executable).with_name("uv"))
        os.replace(partial, link)
    return folder


def _uv_offline(wheelhouse: Path) -> Path:
    """uv's settings for installing from the wheelhouse alone (it has no environment variable
    for ``--no-index``), written next to it."""
    config = wheelhouse.parent / "uv-offline.toml"
    text = f"no-index = true\nfind-links = [{json.dumps(str(wheelhouse))}]\n"
    if not config.exists() or config.read_text(encoding="utf-8") != text:
        partial = config.with_suffix(f".{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, config)  # whole, whichever worker writes it
    return config
