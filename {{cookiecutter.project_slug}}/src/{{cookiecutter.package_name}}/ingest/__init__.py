"""Ingest: declarative models that stream files and API pages into the database.

    from <package>.ingest import CsvSource, IngestModel, fields

A model names its target table, its typed fields and its source; each input is extracted
(saved as received), transformed (every failing row goes to ``etl_rejects`` with its reason)
and loaded in one transaction, exactly once per model version.
"""

from . import fields
from .hooks import (
    on_failure,
    on_load_chunk,
    on_load_commit,
    post_extract,
    post_transform,
    pre_extract,
)
from .model import IngestModel, registered
from .sources import CsvSource, GeneratorSource, JsonLinesSource, ParquetSource, Source

__all__ = [
    "CsvSource",
    "GeneratorSource",
    "IngestModel",
    "JsonLinesSource",
    "ParquetSource",
    "Source",
    "fields",
    "on_failure",
    "on_load_chunk",
    "on_load_commit",
    "post_extract",
    "post_transform",
    "pre_extract",
    "registered",
]
