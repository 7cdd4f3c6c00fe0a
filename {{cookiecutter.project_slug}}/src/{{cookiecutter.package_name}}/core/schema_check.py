"""The run's schema guard, fast: is the database at the newest migration?

Importing Alembic and parsing every migration costs more than a small run, and every ``run``
command pays it at start. The newest revision is read from the ``revision``/``down_revision``
lines of ``migrations/versions/*.py`` instead, and the current one from ``alembic_version``.
Anything unusual (branches, merges, another layout) falls back on Alembic itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from ..db.diagnosis import shown_url
from ..errors import MigrationsPendingError, SchemaAheadError
from ..settings import Settings

__all__ = ["require_head_fast"]

_ASSIGN = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)
# Per project root: the head and every revision of its migrations (None: only Alembic can tell).
_histories: dict[str, tuple[str | None, frozenset[str] | None]] = {}


def require_head_fast(settings: Settings, engine: Engine) -> None:
    """Raise ``MigrationsPendingError`` (naming both revisions) unless the database is at head,
    or ``SchemaAheadError`` when a newer version of the project migrated it."""
    key = str(settings.root)
    if key not in _histories:
        _histories[key] = _history(settings)
    head, known = _histories[key]
    current = _current(engine)
    if current == head:
        return
    if current is not None and not _known(settings, current, known):
        raise SchemaAheadError(current, head, shown_url(engine.url))
    raise MigrationsPendingError(current, head, url=shown_url(engine.url))


def _history(settings: Settings) -> tuple[str | None, frozenset[str] | None]:
    parsed = _parse(Path(settings.root) / "migrations" / "versions")
    if parsed is not None:
        return parsed
    from ..db.schema import head_revision

    return head_revision(settings), None


def _known(settings: Settings, revision: str, known: frozenset[str] | None) -> bool:
    if known is not None:
        return revision in known
    from ..db.schema import known_revision

    return known_revision(settings, revision)


def _parse(folder: Path) -> tuple[str, frozenset[str]] | None:
    """The single head of a linear history and every revision, or None when only Alembic can
    tell."""
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
    return (heads.pop(), frozenset(revisions)) if len(heads) == 1 else None


def _quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'"


def _current(engine: Engine) -> str | None:
    """The database's revision; None only when it has no alembic_version table (never
    migrated). Failing to connect raises: it is not the same as never migrated."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    return rows[0][0] if len(rows) == 1 else None
