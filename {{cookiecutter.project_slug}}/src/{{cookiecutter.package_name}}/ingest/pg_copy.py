"""PostgreSQL's bulk load: ``COPY <table> (columns) FROM STDIN`` through psycopg 3.

Rows stream into one COPY that stays open from chunk to chunk, so the server stores a chunk
while the next one is formatted; the COPY ends when the loader waits, before anything else uses
the connection. It runs in the caller's transaction like any other statement.

A chunk goes as text lines, formatted a column at a time (``text_rows``): the server parses
them as it parses psql's ``\\copy``, in its own process while we read the next chunk, and a
value of another type than its column (set by a ``post_transform`` hook, or an existing table
with other column types) is read as an INSERT's value would be.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from .batches import ObjectProblem
from .text_rows import text_lines

__all__ = ["CopyWriter"]

# Where a COPY error happened, as the server says it: "COPY orders, line 3, column qty: ...".
_WHERE = re.compile(r"^COPY .*?, line (?P<line>\d+)(?:, column (?P<column>[^:]+))?", re.M)


class CopyWriter:
    """Writes chunks of columns (in field order) plus the object id through one open COPY."""

    def __init__(self, conn: Connection, table: sa.Table, object_id: str) -> None:
        import psycopg  # only PostgreSQL projects need the driver

        self._errors: type[Exception] = psycopg.Error
        self.object_id = object_id
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(column.name) for column in table.columns)
        self.statement = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        self.cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self.sent = 0  # rows written so far, over every COPY of this object
        self._open: tuple[ExitStack, Any] | None = None
        self._before = 0  # rows written before the open COPY began: its line 1 is the next

    def write(self, columns: Sequence[Sequence[Any]], count: int) -> None:
        """Send one chunk; the server may refuse it later, when the COPY ends."""
        self.write_text(text_lines(columns, self.object_id, count), count)

    def write_text(self, lines: str, count: int) -> None:
        """Send ``count`` rows already written as text lines (the object id last)."""
        try:
            self._copy().write(lines)
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

    def _copy(self) -> Any:
        """The open COPY, opened on the first chunk after the last wait."""
        if self._open is None:
            stack = ExitStack()
            try:
                copy = stack.enter_context(self.cursor.copy(self.statement))
            except self._errors as exc:
                raise _refused(exc, self.sent) from None
            self._open, self._before = (stack, copy), self.sent
        return self._open[1]


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
