"""The declarative ``Base`` for every ORM model, on the project's one ``MetaData``."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from .metadata import METADATA


class Base(DeclarativeBase):
    """Base of the project's ORM models; ``Base.metadata`` is what Alembic compares against,
    and holds the Core tables declared on ``METADATA`` too (the ingest ledger's)."""

    metadata = METADATA
