"""Ingest: declarative models that stream files and API pages into the database.

    from <package>.ingest import CsvSource, IngestModel, fields

A model names its target table, its typed fields and its source; each input is extracted
(saved as received), transformed (every failing row goes to ``etl_rejects`` with its reason)
and loaded in one transaction, exactly once per model version.

The names below load on first use, so that commands which never touch ingest (``run``,
``list``...) do not pay for its modules, SQLAlchemy's ORM and the time zone database.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

# Each public name -> the submodule that defines it (`fields` is the submodule itself).
_WHERE = {
    "CsvSource": "sources",
    "GeneratorSource": "sources",
    "IngestModel": "model",
    "JsonLinesSource": "sources",
    "ParquetSource": "sources",
    "Source": "sources",
    "fields": "fields",
    "on_failure": "hooks",
    "on_load_chunk": "hooks",
    "on_load_commit": "hooks",
    "post_extract": "hooks",
    "post_transform": "hooks",
    "pre_extract": "hooks",
    "registered": "model",
}

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


def __getattr__(name: str) -> object:
    """Import the submodule behind a public name on first use (PEP 562)."""
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{where}")
    value = module if name == where else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
