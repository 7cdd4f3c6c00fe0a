"""The run's schema guard, fast: is the database at the newest migration?

Importing Alembic and parsing every migration costs more than a small run, and every ``run``
command pays it at start. The newest revision is read from the ``revision``/``down_revision``
lines of ``migrations/versions/*.py`` instead, and the current one from ``alembic_version``.
Anything unusual (branches, merges, another layout) falls back on Alembic itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from ..errors import MigrationsPendingError
from ..settings import Settings

__all__ = ["require_head_fast"]

_ASSIGN = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)
_heads: dict[str, str | None] = {}


def require_head_fast(settings: Settings, engine: Engine) -> None:
    """Raise ``MigrationsPendingError`` (naming both revisions) unless the database is at head."""
    key = str(settings.root)
    if key not in _heads:
        _heads[key] = _head(settings)
    current = _current(engine)
    if current != _heads[key]:
        raise MigrationsPendingError(current, _heads[key])


def _head(settings: Settings) -> str | None:
    parsed = _parse(Path(settings.root) / "migrations" / "versions")
    if parsed is not None:
        return parsed
    from ..db.schema import head_revision

    return head_revision(settings)


def _parse(folder: Path) -> str | None:
    """The single head of a linear history, or None when only Alembic can tell."""
    if not folder.is_dir():
        return None
    revisions, parents = set(), set()
    for path in folder.glob("*.py"):
        found = dict(_ASSIGN.findall(path.read_text(encoding="utf-8")))
        revision, down = found.get("revision"), found.get("down_revision", "None")
        if revision is None or not _quoted(revision) or not (down == "None" or _quoted(down)):
            return None  # a tuple of parents, or something computed: let Alembic read it
        revisions.add(revision.strip("\"'"))
        if down != "None":
            parents.add(down.strip("\"'"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'"


def _current(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no alembic_version table: never migrated
        return None
    return rows[0][0] if len(rows) == 1 else None
