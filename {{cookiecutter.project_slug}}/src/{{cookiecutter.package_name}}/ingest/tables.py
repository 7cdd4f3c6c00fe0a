"""The ingest ledger's tables: model versions, data objects and rejected records.

``etl_data_models`` holds one row per version of each ingest model, with the hash of each
stage's code and field declarations. ``etl_data_objects`` holds one row per object (file or
generator output) per model version, with its stage statuses, counts and file locations.
``etl_rejects`` keeps every record the transform refused, with where it was and why.

Core tables on the project's ``METADATA`` (Alembic sees them beside the ORM models): the
ledger only runs statements, so an ingest never imports the ORM.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ..db.metadata import METADATA, UtcDateTime

__all__ = ["MODELS", "OBJECTS", "REJECTS"]

# One version of one ingest model; a new set of stage hashes is a new version.
MODELS = Table(
    "etl_data_models",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("target_table", String(255), nullable=False),
    Column("extract_hash", String(64), nullable=False),
    Column("transform_hash", String(64), nullable=False),
    Column("load_hash", String(64), nullable=False),
    Column("fields", Text, nullable=False),  # the field declarations, one per line
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("name", "version", name="uq_etl_data_models_name_version"),
    UniqueConstraint("name", "fingerprint", name="uq_etl_data_models_name_fingerprint"),
)

# One object processed by one model version: where it came from, where it is, how it went.
OBJECTS = Table(
    "etl_data_objects",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("model", String(255), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("source_uri", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("extract_status", String(20), nullable=False),
    Column("transform_status", String(20), nullable=False),
    Column("load_status", String(20), nullable=False),
    Column("rows_read", Integer),
    Column("rows_loaded", Integer),
    Column("rows_rejected", Integer),
    Column("raw_path", Text),
    Column("target_table", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("extracted_at", UtcDateTime),
    Column("transform_started_at", UtcDateTime),
    Column("load_started_at", UtcDateTime),
    Column("loaded_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claim", String(32)),  # token of the attempt that owns it
    Column("host", String(255)),
    Column("pid", Integer),
    Column("run_id", String(64)),  # pipeline run, when run as a task
    Column("error", Text),
    UniqueConstraint(
        "model", "model_version", "content_hash", name="uq_etl_data_objects_model_version_hash"
    ),
    Index("ix_etl_data_objects_model_content_hash", "model", "content_hash"),
    Index("ix_etl_data_objects_status_updated_at", "status", "updated_at"),
    Index("ix_etl_data_objects_run_id", "run_id"),
)

# A record the transform refused: which object, where in it, which field and why.
REJECTS = Table(
    "etl_rejects",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "object_id",
        String(32),
        ForeignKey("etl_data_objects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("record", Integer, nullable=False),  # 1-based, header excluded
    Column("line", Integer),  # line in the raw object (row for Parquet)
    Column("field", String(255)),
    Column("reason", Text, nullable=False),
    Column("raw", Text),
    Index("ix_etl_rejects_object_id_record", "object_id", "record"),
)
