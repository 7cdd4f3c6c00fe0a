"""ORM models of the ingest ledger: model versions, data objects and rejected records.

``etl_data_models`` holds one row per version of each ingest model, with the hash of each
stage's code and field declarations. ``etl_data_objects`` holds one row per object (file or
generator output) per model version, with its stage statuses, counts and file locations.
``etl_rejects`` keeps every record the transform refused, with where it was and why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base
from ..db.models import UtcDateTime

__all__ = ["DataModel", "DataObject", "Reject"]


class DataModel(Base):
    """One version of one ingest model; a new set of stage hashes is a new version."""

    __tablename__ = "etl_data_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    target_table: Mapped[str] = mapped_column(String(255))
    extract_hash: Mapped[str] = mapped_column(String(64))
    transform_hash: Mapped[str] = mapped_column(String(64))
    load_hash: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text)  # the field declarations, one per line
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_etl_data_models_name_version"),
        UniqueConstraint("name", "fingerprint", name="uq_etl_data_models_name_fingerprint"),
    )


class DataObject(Base):
    """One object processed by one model version: where it came from, where it is, how it went."""

    __tablename__ = "etl_data_objects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model: Mapped[str] = mapped_column(String(255))
    model_version: Mapped[int] = mapped_column(Integer)
    source_uri: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    extract_status: Mapped[str] = mapped_column(String(20))
    transform_status: Mapped[str] = mapped_column(String(20))
    load_status: Mapped[str] = mapped_column(String(20))
    rows_read: Mapped[int | None] = mapped_column(Integer)
    rows_loaded: Mapped[int | None] = mapped_column(Integer)
    rows_rejected: Mapped[int | None] = mapped_column(Integer)
    raw_path: Mapped[str | None] = mapped_column(Text)
    target_table: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    extracted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    transform_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    load_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    loaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim: Mapped[str | None] = mapped_column(String(32))  # token of the attempt that owns it
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(String(64))  # pipeline run, when run as a task
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint(
            "model", "model_version", "content_hash", name="uq_etl_data_objects_model_version_hash"
        ),
        Index("ix_etl_data_objects_model_content_hash", "model", "content_hash"),
        Index("ix_etl_data_objects_status_updated_at", "status", "updated_at"),
        Index("ix_etl_data_objects_run_id", "run_id"),
    )


class Reject(Base):
    """A record the transform refused: which object, where in it, which field and why."""

    __tablename__ = "etl_rejects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    object_id: Mapped[str] = mapped_column(ForeignKey("etl_data_objects.id", ondelete="CASCADE"))
    record: Mapped[int] = mapped_column(Integer)  # 1-based, header excluded
    line: Mapped[int | None] = mapped_column(Integer)  # line in the raw object (row for Parquet)
    field: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_etl_rejects_object_id_record", "object_id", "record"),)
