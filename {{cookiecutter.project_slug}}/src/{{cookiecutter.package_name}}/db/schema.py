"""The schema's version: Alembic upgrades from code, and the guard that refuses a stale database."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine

from ..errors import DatabaseError, MigrationsPendingError, SchemaAheadError
from ..settings import Settings
from .diagnosis import ensure_connects, shown_url
from .engine import engine_from_settings

# Every module that defines ORM models; Alembic compares the database against all of them.
MODEL_MODULES = ("db.models", "ingest.tables")


def import_models() -> None:
    """Import every ORM module so that ``Base.metadata`` knows every table."""
    for module in MODEL_MODULES:
        importlib.import_module(f"{__package__.rpartition('.')[0]}.{module}")


def alembic_config(settings: Settings) -> Config:
    """The project's ``alembic.ini``, found beside settings.yml."""
    ini = Path(settings.root) / "alembic.ini"
    if not ini.is_file():
        raise DatabaseError(f"no alembic.ini in {settings.root}; the migrations live beside it")
    config = Config(str(ini))
    config.attributes["configure_logger"] = False
    return config


def head_revision(settings: Settings) -> str | None:
    """The newest revision in ``migrations/versions``."""
    return ScriptDirectory.from_config(alembic_config(settings)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when it was never migrated: no alembic_version
    table). A database that cannot be reached raises, never reads as "never migrated"."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def known_revision(settings: Settings, revision: str) -> bool:
    """Whether ``revision`` is one of this project's migrations."""
    try:
        return (
            ScriptDirectory.from_config(alembic_config(settings)).get_revision(revision) is not None
        )
    except CommandError:
        return False


def require_head(settings: Settings, engine: Engine) -> None:
    """Refuse to go on unless the database is at the newest revision: a schema behind the code
    says to migrate, one ahead of it (a newer project migrated it) says to update the code."""
    current, head = current_revision(engine), head_revision(settings)
    if current is not None and current != head and not known_revision(settings, current):
        raise SchemaAheadError(current, head, shown_url(engine.url))
    if current != head:
        raise MigrationsPendingError(current, head, url=shown_url(engine.url))


@contextmanager
def engine_at_head(settings: Settings) -> Iterator[Engine]:
    """An engine on the project database once ``require_head`` finds it at the newest revision,
    disposed when the block ends (also when the check refuses).

    For the commands that read or prune the ledger once (``runs``, ``show-run``, ``runs prune``,
    ``ingest --status``). Each of them checked with ``require_head`` (Alembic itself), so that is
    the check kept here; the faster ``core.schema_check.require_head_fast`` sits a layer above
    this module and is what a ``run`` uses.
    """
    engine = engine_from_settings(settings)
    try:
        require_head(settings, engine)
        yield engine
    finally:
        engine.dispose()


def require_known(settings: Settings) -> None:
    """Before migrating: the database is reachable and not ahead of this project's migrations
    (Alembic would otherwise fail with "Can't locate revision")."""
    engine = engine_from_settings(settings)
    try:
        ensure_connects(engine)
        current = current_revision(engine)
        if current is not None and not known_revision(settings, current):
            raise SchemaAheadError(current, head_revision(settings), shown_url(engine.url))
    finally:
        engine.dispose()


def upgrade(settings: Settings, revision: str = "head") -> None:
    """``alembic upgrade``, on the database that settings.yml names."""
    require_known(settings)
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str = "base") -> None:
    """``alembic downgrade``, on the database that settings.yml names."""
    require_known(settings)
    command.downgrade(alembic_config(settings), revision)
