"""PostgreSQL's bulk load: ``COPY <table> (columns) FROM STDIN`` through psycopg 3.

Rows stream into one COPY that stays open from chunk to chunk, so the server stores a chunk
while the next one is read; the COPY ends when the loader waits, before anything else uses
the connection. It runs in the caller's transaction like any other statement.

Binary format when the target's columns have the types the fields declare and a chunk's values
are exactly those types: the server then parses nothing, and the client formats a row at C
speed. Anything else (an existing table with other column types, a value a ``post_transform``
hook set to another type) goes as text, which the server reads as it reads an INSERT's values.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Sequence
from contextlib import ExitStack
from itertools import repeat
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from .batches import ObjectProblem
from .fields import Field

__all__ = ["CopyWriter"]

# The column types whose binary form we send: the PostgreSQL type name and the one Python type
# its values must have (exactly: a bool is no int here, a datetime no date).
_BINARY: dict[type, tuple[str, type]] = {
    sa.Integer: ("int4", int),
    sa.BigInteger: ("int8", int),
    sa.Double: ("float8", float),
    sa.Numeric: ("numeric", decimal.Decimal),
    sa.String: ("varchar", str),
    sa.Date: ("date", dt.date),
    sa.DateTime: ("timestamp", dt.datetime),
    sa.Boolean: ("bool", bool),
}
_NONE = type(None)
# Where a COPY error happened, as the server says it: "COPY orders, line 3, column qty: ...".
_WHERE = re.compile(r"^COPY .*?, line (?P<line>\d+)(?:, column (?P<column>[^:]+))?", re.M)


class CopyWriter:
    """Writes chunks of columns (in field order) plus the object id through one open COPY."""

    def __init__(
        self, conn: Connection, table: sa.Table, fields: Sequence[Field], object_id: str
    ) -> None:
        import psycopg  # only PostgreSQL projects need the driver

        self._errors: type[Exception] = psycopg.Error
        self.object_id = object_id
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(column.name) for column in table.columns)
        self.statement = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        self.types = _binary_types(conn, table, fields)
        self.cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self.sent = 0  # rows written so far, over every COPY of this object
        self._open: tuple[ExitStack, Any, bool] | None = None
        self._before = 0  # rows written before the open COPY began: its line 1 is the next

    def write(self, columns: Sequence[Sequence[Any]], count: int) -> None:
        """Send one chunk; the server may refuse it later, when the COPY ends."""
        binary = self.types is not None and all(
            set(map(type, column)) <= allowed for column, (_, allowed) in zip(columns, self.types)
        )
        write_row = self._copy(binary).write_row
        try:
            for row in zip(*columns, repeat(self.object_id, count)):
                write_row(row)
        except self._errors as exc:
            raise _refused(exc, self._before) from None
        self.sent += count

    def finish(self) -> None:
        """End the open COPY: from here on the server holds every row sent, or raised."""
        opened, self._open = self._open, None
        if opened is not None:
            try:
                opened[0].close()
            except self._errors as exc:
                raise _refused(exc, self._before) from None

    def abort(self, exc: BaseException) -> None:
        """End the open COPY with an error: the server discards it (the transaction fails)."""
        opened, self._open = self._open, None
        if opened is not None:
            try:
                opened[0].__exit__(type(exc), exc, exc.__traceback__)
            except self._errors:
                pass  # the error in flight, not the server's answer to it, is what matters

    def close(self) -> None:
        self.cursor.close()

    def _copy(self, binary: bool) -> Any:
        """The open COPY in the format asked for, ending one in the other format first."""
        if self._open is not None and self._open[2] != binary:
            self.finish()
        if self._open is None:
            stack = ExitStack()
            statement = self.statement + (" (FORMAT BINARY)" if binary else "")
            try:
                copy = stack.enter_context(self.cursor.copy(statement))
            except self._errors as exc:
                raise _refused(exc, self.sent) from None
            if binary:
                if self.types is None:
                    raise RuntimeError("a binary COPY needs the column types")
                copy.set_types([name for name, _ in self.types])
            self._open, self._before = (stack, copy, binary), self.sent
        return self._open[1]


def _binary_types(
    conn: Connection, table: sa.Table, fields: Sequence[Field]
) -> list[tuple[str, frozenset[type]]] | None:
    """Each column's binary type name and the Python types it takes; None if any column of
    the table in the database is not of the type its field declares."""
    types = []
    for kind in [f.sql_type() for f in fields] + [sa.String()]:
        binary = _BINARY.get(type(kind))
        if binary is None:
            return None
        types.append((binary[0], frozenset({binary[1], _NONE})))
    have: dict[str, str] = dict(
        conn.execute(
            sa.text(
                "SELECT a.attname, t.typname FROM pg_attribute a "
                "JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = CAST(:table AS regclass) AND a.attnum > 0 "
                "AND NOT a.attisdropped"
            ),
            {"table": conn.dialect.identifier_preparer.quote(table.name)},
        ).all()
    )
    if [have.get(column.name) for column in table.columns] != [name for name, _ in types]:
        return None
    return types


def _refused(exc: Exception, before: int) -> ObjectProblem:
    """The server's refusal as the object's problem: its message, and which good row (counted
    over the object, rejects left out) and column it names."""
    diag = getattr(exc, "diag", None)
    message = getattr(diag, "message_primary", None) or str(exc).splitlines()[0]
    where = _WHERE.search(getattr(diag, "context", None) or "")
    if where is None:
        return ObjectProblem(f"PostgreSQL refused the rows: {message}")
    column = f", column {where['column']}" if where["column"] else ""
    row = before + int(where["line"])
    return ObjectProblem(f"PostgreSQL refused good row {row}{column}: {message}")
