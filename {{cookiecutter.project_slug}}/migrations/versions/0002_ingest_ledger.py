"""Ingest ledger: model versions, data objects and rejected records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Naive UTC with microseconds; MySQL/MariaDB need fsp=6 to keep them.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "etl_data_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("target_table", sa.String(length=255), nullable=False),
        sa.Column("extract_hash", sa.String(length=64), nullable=False),
        sa.Column("transform_hash", sa.String(length=64), nullable=False),
        sa.Column("load_hash", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_etl_data_models")),
        sa.UniqueConstraint("name", "fingerprint", name="uq_etl_data_models_name_fingerprint"),
        sa.UniqueConstraint("name", "version", name="uq_etl_data_models_name_version"),
    )
    op.create_table(
        "etl_data_objects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("source_uri", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("extract_status", sa.String(length=20), nullable=False),
        sa.Column("transform_status", sa.String(length=20), nullable=False),
        sa.Column("load_status", sa.String(length=20), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=True),
        sa.Column("rows_loaded", sa.Integer(), nullable=True),
        sa.Column("rows_rejected", sa.Integer(), nullable=True),
        sa.Column("raw_path", sa.Text(), nullable=True),
        sa.Column("target_table", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("extracted_at", UTC_DATETIME, nullable=True),
        sa.Column("transform_started_at", UTC_DATETIME, nullable=True),
        sa.Column("load_started_at", UTC_DATETIME, nullable=True),
        sa.Column("loaded_at", UTC_DATETIME, nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_etl_data_objects")),
        sa.UniqueConstraint(
            "model", "model_version", "content_hash", name="uq_etl_data_objects_model_version_hash"
        ),
    )
    with op.batch_alter_table("etl_data_objects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_etl_data_objects_model_content_hash", ["model", "content_hash"], unique=False
        )
        batch_op.create_index("ix_etl_data_objects_run_id", ["run_id"], unique=False)
        batch_op.create_index(
            "ix_etl_data_objects_status_updated_at", ["status", "updated_at"], unique=False
        )

    op.create_table(
        "etl_rejects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("object_id", sa.String(length=32), nullable=False),
        sa.Column("record", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["etl_data_objects.id"],
            name=op.f("fk_etl_rejects_object_id_etl_data_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_etl_rejects")),
    )
    with op.batch_alter_table("etl_rejects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_etl_rejects_object_id_record", ["object_id", "record"], unique=False
        )


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MySQL, where an index
    # backs a foreign key.
    op.drop_table("etl_rejects")
    op.drop_table("etl_data_objects")
    op.drop_table("etl_data_models")
