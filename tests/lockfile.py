"""Read a lock file (``uv pip compile`` output): its pins, and which apply to one environment."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

# A pin opens a line: ``name==version`` with an optional ``; marker``, then ``\\`` and hashes.
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s*;\s*(.+?))?\s*\\?$")


def pins(lock: Path) -> list[tuple[str, str, str | None]]:
    """Every ``(name, version, marker)`` of the lock, names canonical (PEP 503)."""
    found = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            name, version, marker = match.groups()
            found.append((canonicalize_name(name), version, marker))
    return found


def hashed(lock: Path) -> bool:
    """Every pin is followed by at least one ``--hash=sha256:`` line."""
    lines = lock.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if PIN.match(line)]
    return bool(starts) and all(
        i + 1 < len(lines) and lines[i + 1].strip().startswith("--hash=sha256:") for i in starts
    )


def for_environment(lock: Path, environment: dict[str, str]) -> dict[str, str]:
    """``{name: version}`` of the pins whose marker holds in ``environment`` (PEP 508 keys)."""
    chosen = {}
    for name, version, marker in pins(lock):
        if marker is None or Marker(marker).evaluate(environment):
            chosen[name] = version
    return chosen
