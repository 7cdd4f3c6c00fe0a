"""Shared pieces of the ingest tests: a five-field model (as a class, or as the source of a models
file), input files and ledger queries."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, select, text

from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields
from {{ cookiecutter.package_name }}.ingest.tables import OBJECTS, REJECTS

HEADER = "id,price,ticker,day,qty\n"
_names = itertools.count()


def trades_model(pattern: str = "inbox/*.csv", **extra: Any) -> type[IngestModel]:
    """A fresh model (unique name and table) reading ``pattern`` under the project folder."""
    number = next(_names)
    body: dict[str, Any] = {
        "__table__": f"trades_{number}",
        "__source__": CsvSource(pattern),
        "__module__": __name__,
        "id": fields.Integer(required=True),
        "price": fields.Float(),
        "ticker": fields.UppercaseString(length=8),
        "day": fields.Date(required=True),
        "qty": fields.Integer(),
    }
    body.update(extra)
    return type(f"Trades{number}", (IngestModel,), body)


def orders_model(*keywords: str) -> str:
    """Source of ``class Orders``, an ingest model of HEADER's five fields into table ``orders``
    from ``inbox/*.csv``, indented like the other ``write_models`` texts; ``keywords`` go in its
    class line after the base (``"depends_on=[prepare]"``)."""
    bases = ", ".join(["IngestModel", *keywords])
    return f"""
    class Orders({bases}):
        __table__ = "orders"
        __source__ = CsvSource("inbox/*.csv")
        id = fields.Integer(required=True)
        price = fields.Float()
        ticker = fields.UppercaseString(length=8)
        day = fields.Date(required=True)
        qty = fields.Integer()
"""


# A models file (for ``write_models``) of the Orders model alone.
ORDERS_MODELS = """
    from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields
""" + orders_model()


def write(project: Path, name: str, content: str | bytes) -> Path:
    """Write an input file under ``project/inbox``."""
    path = project / "inbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def good_rows(count: int, start: int = 1) -> str:
    """``count`` valid CSV lines (no header)."""
    return "".join(
        f"{i},{i * 1.5},abc{i % 7},2024-01-{i % 28 + 1:02d},{i * 10}\n"
        for i in range(start, start + count)
    )


def table_rows(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    """Every row of an ingest target, without the object column, sorted by id."""
    with engine.connect() as conn:
        result = conn.execute(text(f"SELECT id, price, ticker, day, qty FROM {table} ORDER BY id"))
        return [tuple(row) for row in result]


def objects(engine: Engine, model: str) -> list[Row[Any]]:
    """The ledger's objects of one model, oldest first."""
    with engine.connect() as conn:
        query = select(OBJECTS).where(OBJECTS.c.model == model)
        return list(conn.execute(query.order_by(OBJECTS.c.created_at)))


def rejects(engine: Engine) -> list[Any]:
    """Every reject, by object and record."""
    with engine.connect() as conn:
        query = select(REJECTS).order_by(REJECTS.c.object_id, REJECTS.c.record)
        return list(conn.execute(query))
