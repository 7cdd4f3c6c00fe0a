"""The load stage's writers: the target table, and the fastest bulk insert each dialect offers.

SQLite: one prepared INSERT run with ``executemany`` over plain tuples. MySQL/MariaDB: ``LOAD
DATA LOCAL INFILE`` when both the server and the connection allow it, from a temporary file
per megabyte of rows (fewer statements, each long enough to keep the server busy while
we read on), the object id set by the statement rather than sent on every line; else
pymysql's ``executemany``, which sends multi-row INSERTs. PostgreSQL through
psycopg 3: ``COPY FROM STDIN`` (``pg_copy.py``). Every chunk goes into the caller's
transaction, so an object's rows commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Dialect, Engine, inspect

from ..db.engine import make_engine
from ..errors import IngestError
from ..system import MYSQL_BACKENDS
from .batches import ObjectProblem
from .field_base import TextBacked
from .fields import Boolean, Date, DateTime, Decimal, Field, Method
from .pg_copy import CopyWriter
from .switch_interval import lowered_switch_interval
from .text_rows import text_lines

__all__ = ["Loader", "OBJECT_ID_COLUMN", "bulk_engine", "ensure_target", "target_table"]

# The column of every target table naming the data object each row came from.
OBJECT_ID_COLUMN = "etl_object_id"
# How much text (characters) LOAD DATA takes at a time: a few chunks, not the whole object.
LOAD_DATA_CHARS = 1 << 20
# A column type's bind processor: a Python value to what the driver takes.
_Processor = Callable[[Any], Any]

_PROCESSED = (Boolean, Date, DateTime, Decimal)


def target_table(name: str, fields: Sequence[Field]) -> sa.Table:
    """The target table as the fields declare it, plus the column naming each row's object."""
    columns = [sa.Column(f.name, f.sql_type(), nullable=True) for f in fields]
    # No index on the object column: it only serves the rare --force/reprocess delete, and an
    # index would slow every bulk load.
    columns.append(sa.Column(OBJECT_ID_COLUMN, sa.String(32), nullable=False))
    return sa.Table(name, sa.MetaData(), *columns)


def bulk_engine(engine: Engine) -> Engine:
    """MySQL: a twin engine whose connections may use LOAD DATA LOCAL INFILE."""
    if engine.url.get_backend_name() not in MYSQL_BACKENDS or "local_infile" in engine.url.query:
        return engine
    return make_engine(engine.url.update_query_dict({"local_infile": "1"}))


def ensure_target(engine: Engine, table: sa.Table) -> None:
    """Create the target table if missing; an existing one must have every column."""
    inspector = inspect(engine)
    if not inspector.has_table(table.name):
        table.create(engine, checkfirst=True)
        return
    have = {column["name"] for column in inspector.get_columns(table.name)}
    missing = [column.name for column in table.columns if column.name not in have]
    if missing:
        raise IngestError(
            table.name,
            {
                table.name: f"the existing table has no column {', '.join(missing)}; add them "
                f"with a migration, or drop the table to let the ingest create it"
            },
        )


class Loader:
    """Inserts chunks of transformed columns into the target inside one open transaction."""

    def __init__(
        self,
        conn: Connection,
        table: sa.Table,
        fields: Sequence[Field],
        object_id: str,
        *,
        bulk: bool = True,
    ):
        """``bulk=False`` sends plain INSERTs on every dialect: the reference the bulk paths
        (LOAD DATA, COPY) must match row for row."""
        self.conn = conn
        self.table = table
        self.fields = fields
        self.object_id = object_id
        dialect = conn.dialect
        self.processors = [_processor(f, dialect) for f in fields]
        quote = dialect.identifier_preparer.quote
        self.names = [quote(column.name) for column in table.columns]
        mysql = bulk and dialect.name in MYSQL_BACKENDS
        self.local_infile = mysql and _local_infile_allowed(conn)
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        # The object id is a hex uuid we made, so it is safe as a literal; binding it on
        # every row would cost as much as a whole column.
        one = f"({', '.join([mark] * len(fields))}, '{object_id}')"
        # Identifiers quoted by the dialect, values bound: no outside text reaches the SQL.
        head = f"INSERT INTO {quote(table.name)} ({', '.join(self.names)}) VALUES "  # noqa: S608
        self.sql = head + one
        # SQLite: many rows per statement saves a statement step per row, and hands the GIL
        # to the parsing less often; within the library's limit of bound parameters.
        self.per_statement = (
            max(1, min(1000, _parameter_limit(conn) // max(1, len(fields))))
            if bulk and dialect.name == "sqlite"
            else 1
        )
        self.multi_sql = head + ", ".join([one] * self.per_statement)
        self._pending: Future[None] | None = None
        self._parts: list[str] = []  # text lines not yet handed to LOAD DATA
        self._buffered = 0
        # Holds the lowered switch interval from the first background job to the end.
        self._lowered: ExitStack | None = None
        # SQLite steps its statements without the GIL: a file database's chunk is written by
        # a thread of its own while we read and convert the next one.
        self.background = bulk and dialect.name == "sqlite" and _shareable(conn)
        busy = self.local_infile or self.background
        self._worker = ThreadPoolExecutor(1, "ingest-load") if busy else None
        # COPY needs psycopg 3; another PostgreSQL driver keeps the INSERTs.
        postgres = bulk and (dialect.name, dialect.driver) == ("postgresql", "psycopg")
        self.copy = CopyWriter(conn, table, object_id) if postgres else None

    def insert(self, columns: Sequence[Sequence[Any]]) -> int:
        """Insert one chunk (columns in field order); returns the rows written."""
        count = len(columns[0]) if columns else 0
        if not count:
            return 0
        if self.copy is not None:
            self.copy.write(columns, count)
            return count
        if self.local_infile:
            return self._load_data(text_lines(columns, None, count), count)
        ready = [_apply(p, c) for p, c in zip(self.processors, columns)]
        per = self.per_statement
        whole = count // per * per if per > 1 else 0
        groups: list[tuple[Any, ...]] = []
        if whole:
            # Rows side by side in one flat list, filled a column at a time by slice
            # assignment: no tuple per row is ever built.
            flat: list[Any] = [None] * (whole * len(ready))
            for offset, column in enumerate(ready):
                flat[offset :: len(ready)] = column if len(column) == whole else column[:whole]
            width, params = per * len(ready), tuple(flat)
            groups = [params[i : i + width] for i in range(0, len(params), width)]
        rest = list(zip(*[c[whole:] for c in ready])) if whole < count else []
        if self.background:
            self._submit(partial(self._execute, groups, rest))
        else:
            self._execute(groups, rest)
        return count

    def _execute(self, groups: list[tuple[Any, ...]], rest: list[tuple[Any, ...]]) -> None:
        if groups:
            self.conn.exec_driver_sql(self.multi_sql, groups)
        if rest:
            self.conn.exec_driver_sql(self.sql, rest)

    @property
    def takes_text(self) -> bool:
        """Whether chunks may come as text lines (``insert_text``): COPY and LOAD DATA."""
        return self.copy is not None or self.local_infile

    @property
    def text_object_id(self) -> str | None:
        """The object id that ends each text line for ``insert_text``; None for LOAD DATA,
        which sets the column itself."""
        return self.object_id if self.copy is not None else None

    def insert_text(self, lines: str, count: int) -> int:
        """Insert ``count`` rows written as ``text_rows`` writes them (the object id last,
        when ``text_object_id`` is one)."""
        if self.copy is not None:
            self.copy.write_text(lines, count)
            return count
        return self._load_data(lines, count)

    def wait(self) -> None:
        """Let the chunk loading in the background finish; its error, if any, is raised here."""
        if self.copy is not None:
            self.copy.finish()
        self._flush()
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> Loader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # The connection must be idle before the transaction ends, whatever happened.
        error = exc_info[1]
        if self.copy is not None and isinstance(error, BaseException):
            self.copy.abort(error)  # a failed load sends no more rows, nor waits for them
        if isinstance(error, BaseException):
            self._parts.clear()  # rolled back anyway: load no more of it
        try:
            self.wait()
        except Exception:
            if exc_info[0] is None:
                raise
        finally:
            if self._worker is not None:
                self._worker.shutdown()
            lowered, self._lowered = self._lowered, None
            if lowered is not None:
                lowered.close()
            if self.copy is not None:
                self.copy.close()

    def _load_data(self, lines: str, count: int) -> int:
        self._parts.append(lines)
        self._buffered += len(lines)
        if self._buffered >= LOAD_DATA_CHARS:
            self._flush()
        return count

    def _flush(self) -> None:
        """Hand the buffered lines to LOAD DATA, after the previous load is done."""
        if not self._parts:
            return
        fd, path = tempfile.mkstemp(prefix="ingest-", suffix=".tsv")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.writelines(self._parts)
        self._parts.clear()
        self._buffered = 0
        try:
            self._submit(partial(self._load_file, path))
        except BaseException:
            os.unlink(path)
            raise

    def _submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the loader's thread once the previous one is done (its error raised
        here): the database writes these rows while we prepare the next ones."""
        if self._worker is None:
            raise RuntimeError("a background load was asked of a loader without a thread")
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()
        if self._lowered is None:
            # Shared with any other load running at once: the last one out restores it.
            self._lowered = ExitStack()
            self._lowered.enter_context(lowered_switch_interval())
        self._pending = self._worker.submit(job)

    def _load_file(self, path: str) -> None:
        try:
            escaped = path.replace("\\", "\\\\").replace("'", "\\'")
            quote = self.conn.dialect.identifier_preparer.quote
            # The object id is a hex uuid we made: safe as a literal, and set once here
            # instead of sent on every line.
            self.conn.exec_driver_sql(
                f"LOAD DATA LOCAL INFILE '{escaped}' INTO TABLE {quote(self.table.name)} "
                "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
                f"LINES TERMINATED BY '\\n' ({', '.join(self.names[:-1])}) "
                f"SET {quote(OBJECT_ID_COLUMN)} = '{self.object_id}'"
            )
        finally:
            os.unlink(path)
        warnings = self.conn.exec_driver_sql("SHOW WARNINGS LIMIT 3").fetchall()
        if warnings:  # LOAD DATA LOCAL turns bad values into warnings: refuse the object
            shown = "; ".join(str(w[2]) for w in warnings)
            raise ObjectProblem(f"the server changed values while loading: {shown}")


def _processor(fld: Field, dialect: Dialect) -> _Processor | None:
    """The bind processor of the field's column type (Python value -> DBAPI value), if any."""
    kind = fld.type if isinstance(fld, Method) else fld
    if not isinstance(kind, _PROCESSED):
        return None  # int, float and str values are what every driver takes as they are
    if dialect.name == "sqlite" and type(kind) is Date:
        return dt.date.isoformat  # what SQLAlchemy stores, at C speed
    return fld.sql_type().dialect_impl(dialect).bind_processor(dialect)


def _apply(processor: _Processor | None, column: Sequence[Any]) -> Sequence[Any]:
    if processor is None:
        return column
    if processor is dt.date.isoformat and isinstance(column, TextBacked):
        return column.text
    if None not in column:
        return list(map(processor, column))
    return [None if value is None else processor(value) for value in column]


def _parameter_limit(conn: Connection) -> int:
    """How many parameters one SQLite statement may bind (999 where it cannot be asked)."""
    raw = conn.connection.dbapi_connection
    getlimit = getattr(raw, "getlimit", None)
    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) if getlimit else 999


def _shareable(conn: Connection) -> bool:
    """A SQLite file database whose connection another thread may use (SQLAlchemy's default
    for files; an in-memory database is one thread's)."""
    url = conn.engine.url
    database = url.database or ""
    memory = database in ("", ":memory:") or "mode=memory" in database
    return not memory and str(url.query.get("check_same_thread", "false")).lower() != "true"


def _local_infile_allowed(conn: Connection) -> bool:
    """Both ends allow LOCAL INFILE: the server's variable and this connection's flag."""
    raw = conn.connection.dbapi_connection
    client = bool(getattr(raw, "client_flag", 0) & 128)  # CLIENT.LOCAL_FILES
    if not client:
        return False
    return bool(conn.exec_driver_sql("SELECT @@GLOBAL.local_infile").scalar())
