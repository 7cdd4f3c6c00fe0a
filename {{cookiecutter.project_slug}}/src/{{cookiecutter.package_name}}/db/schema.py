"""The schema's version: Alembic upgrades from code, and the guard that refuses a stale database."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ..errors import DatabaseError, MigrationsPendingError
from ..settings import Settings

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
    """The revision the database is at (None when it was never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_head(settings: Settings, engine: Engine) -> None:
    """Refuse to go on unless the database is at the newest revision."""
    current, head = current_revision(engine), head_revision(settings)
    if current != head:
        raise MigrationsPendingError(current, head)


def upgrade(settings: Settings, revision: str = "head") -> None:
    """``alembic upgrade``, on the database that settings.yml names."""
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str = "base") -> None:
    """``alembic downgrade``, on the database that settings.yml names."""
    command.downgrade(alembic_config(settings), revision)
