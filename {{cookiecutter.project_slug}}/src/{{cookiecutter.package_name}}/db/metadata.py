"""The one ``MetaData`` every table of the project database is declared on, ORM model or Core
table alike, and the column type of every timestamp.

Named constraints make Alembic autogenerate stable and let batch mode on SQLite drop and
recreate them by name. This module needs SQLAlchemy Core alone, so code that only reads and
writes tables (the ingest command) never imports the ORM.
"""

from __future__ import annotations

from sqlalchemy import DateTime, MetaData
from sqlalchemy.dialects import mysql

__all__ = ["METADATA", "NAMING_CONVENTION", "UtcDateTime"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

METADATA = MetaData(naming_convention=NAMING_CONVENTION)

# Naive UTC with microseconds on every dialect (MySQL's DATETIME keeps whole seconds unless told).
UtcDateTime = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
