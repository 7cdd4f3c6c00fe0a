"""The README's commands work as written for a new user: the project lives in ``.venv``, so a
command that calls Python names the venv's (a bare ``python -m`` or ``python3 -m`` fails with
"No module named ..." outside an activated venv)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
README = PROJECT_ROOT / "README.md"
VENV_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
# ``python`` or ``python3`` run as a command (a module or a script), not the venv's.
BARE_PYTHON = re.compile(r"(?<![/\w.])python3?\s+(-m\s|\S+\.py\b)")
VENV_COMMAND = re.compile(r"\.venv/bin/python -m \w+ [a-z-]+(?: --?[a-z-]+)*")


def test_no_readme_command_calls_a_bare_python() -> None:
    bare = [
        f"README.md:{number}: {line.strip()}"
        for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1)
        if BARE_PYTHON.search(line)
    ]
    assert not bare, "use .venv/bin/python (or say to activate the venv):\n" + "\n".join(bare)


def test_the_readme_says_how_to_call_the_command_line_without_make() -> None:
    text = README.read_text(encoding="utf-8")
    assert "source .venv/bin/activate" in text
    assert VENV_COMMAND.search(text)


@pytest.mark.skipif(not VENV_PYTHON.is_file(), reason="the project's .venv is not installed")
def test_the_readme_command_line_runs_as_written() -> None:
    text = README.read_text(encoding="utf-8")
    command = next(c for c in VENV_COMMAND.findall(text) if c.endswith(" --help"))
    done = subprocess.run(
        shlex.split(command), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert " list " in done.stdout and " run " in done.stdout, done.stdout
