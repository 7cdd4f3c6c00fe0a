"""``Session``: the entry point that turns tables, SQL text and pandas frames into DataFrames."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Float, MetaData, Table, column, inspect, text
from sqlalchemy.exc import DBAPIError, NoSuchTableError
from sqlalchemy.sql.expression import Selectable

from ..db.schemas import missing_schema, prepare_schema, schema_exists
from ..errors import SQLLayerError
from .dataframe import DataFrame
from .ddl import TMP_SUFFIX, check_name, is_shadow
from .lineage import note_read, note_write
from .materialize import clean_leftovers, swap_in
from .text_dates import compare_dates_with_text

if TYPE_CHECKING:
    import pandas

    from ..settings import Settings

__all__ = ["Session"]


class Session:
    """DataFrames over one database (and optionally one schema), pydwt's ``Session``.

    ``schema`` is a schema on PostgreSQL, a database on MySQL and, on SQLite, the database file
    ``<schema>.db`` beside the main one (attached under that name; it must exist).
    """

    def __init__(
        self, engine: Engine, schema: str | None = None, *, settings: Settings | None = None
    ):
        if not isinstance(engine, Engine):
            raise SQLLayerError(
                f"Session(engine) needs a SQLAlchemy Engine, got {type(engine).__name__}"
            )
        prepare_schema(engine, schema)
        self.engine = engine
        self.schema = schema
        self.settings = settings
        self._tables: dict[tuple[str | None, str], Table] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Session:
        """A session on the project database named by settings.yml (or ``DATABASE_URL``)."""
        from ..db.engine import engine_from_settings
        from ..settings import load_settings

        settings = settings or load_settings()
        return cls(engine_from_settings(settings), settings=settings)

    def __repr__(self) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        return f"Session({url!r}, schema={self.schema!r})"

    def table(self, name: str, *, schema: str | None = None) -> DataFrame:
        """A DataFrame over a table or view; its columns are reflected once and cached.

        While a task runs, the table is noted as read (the run ledger's lineage)."""
        note_read(name)
        if schema is not None and schema != self.schema:
            prepare_schema(self.engine, schema)
        schema = schema if schema is not None else self.schema
        key = (schema, name)
        with self._lock:
            table = self._tables.get(key)
            if table is None:
                table = self._reflect(name, schema)
                self._tables[key] = table
        return DataFrame(table, self.engine, session=self)

    def _reflect(self, name: str, schema: str | None) -> Table:
        try:
            table = Table(name, MetaData(), schema=schema, autoload_with=self.engine)
        except (NoSuchTableError, DBAPIError) as exc:
            if schema and not schema_exists(self.engine, schema):
                raise missing_schema(self.engine, schema) from None
            if isinstance(exc, DBAPIError):  # MySQL: a table it may not show
                raise
            known = self.table_names(schema)
            shown = ", ".join(known[:30]) + (" ..." if len(known) > 30 else "")
            where = f" in schema {schema!r}" if schema else ""
            raise SQLLayerError(
                f"no table or view {name!r}{where}; the database has: {shown or '<nothing>'}"
            ) from None
        for col in table.c:
            if isinstance(col.type, Float) and col.type.asdecimal:
                col.type.asdecimal = False  # MySQL's DOUBLE reflects as Decimal otherwise
        if self.engine.dialect.name == "postgresql":
            compare_dates_with_text(table)
        return table

    def table_names(self, schema: str | None = None) -> list[str]:
        """Tables and views of ``schema`` (the session's by default), shadow copies of running
        builds left out."""
        schema = schema if schema is not None else self.schema
        inspector = inspect(self.engine)
        names = [
            *inspector.get_table_names(schema=schema),
            *inspector.get_view_names(schema=schema),
        ]
        return sorted(n for n in names if not is_shadow(n))

    def refresh(self, name: str | None = None, *, schema: str | None = None) -> None:
        """Forget cached columns (of one table, or all) so the next ``table()`` reflects again."""
        with self._lock:
            if name is None:
                self._tables.clear()
            else:
                self._tables.pop((schema if schema is not None else self.schema, name), None)

    def sql(self, query: str, **params: object) -> DataFrame:
        """A DataFrame over a SQL query; its column names are read from the database once."""
        clause = text(query).bindparams(**params) if params else text(query)
        # The user's own SQL, wrapped to read its column names: not built from outside input.
        probe = text(f"SELECT * FROM ({query}) AS q LIMIT 0")  # noqa: S608
        try:
            with self.engine.connect() as conn:
                names = list(conn.execute(probe, params).keys())
        except DBAPIError as exc:
            raise SQLLayerError(f"the database refused the query: {exc.orig}") from exc
        sub = clause.columns(*(column(n) for n in names)).subquery("q")
        return DataFrame(sub, self.engine, session=self)

    def sources(self, alias: str) -> DataFrame:
        """The table that settings.yml's ``sources.<alias>`` names."""
        settings = self.settings
        if settings is None:
            from ..settings import load_settings

            settings = load_settings()
        source = settings.sources.get(alias)
        if source is None:
            known = ", ".join(sorted(settings.sources)) or "<none>"
            raise SQLLayerError(
                f"no source {alias!r} in settings.yml; add it under `sources:` (known: {known})"
            )
        return self.table(source.table, schema=source.schema_ or self.schema)

    def create_dataframe(
        self,
        data: Selectable | pandas.DataFrame | Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]],
        name: str | None = None,
        *,
        columns: Sequence[str] | None = None,
        chunksize: int = 10_000,
    ) -> DataFrame:
        """A DataFrame over a SQLAlchemy selectable, or over rows loaded into a table.

        A selectable (a CTE, a select, a Table) is used as it is, nothing is loaded. Rows (a
        pandas DataFrame, a list of dicts or a list of tuples with ``columns``) replace the
        table ``name`` atomically; without ``name`` the table is named after a hash of the
        content, so loading the same data twice reuses one table.
        """
        if isinstance(data, Selectable):
            if name is not None:
                raise SQLLayerError(
                    "create_dataframe(selectable) reads the selectable where it is; to store "
                    "it under a name, call .materialize(name) on the DataFrame it returns"
                )
            return DataFrame(data, self.engine, session=self)
        import pandas as pd

        frame = (
            data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data), columns=columns)
        )
        if frame.shape[1] == 0:
            raise SQLLayerError("create_dataframe() got data with no columns")
        if name is None:
            name = "df_" + _content_hash(frame)
        self._load(frame, name, chunksize)
        return self.table(name)

    createDataFrame = create_dataframe

    def _load(self, frame: pandas.DataFrame, name: str, chunksize: int) -> None:
        """Write ``frame`` under a shadow name, then swap it in as the table ``name``."""
        check_name(self.engine, name)
        clean_leftovers(self.engine, schema=self.schema, name=name)
        shadow = name + TMP_SUFFIX
        try:
            frame.to_sql(
                shadow,
                self.engine,
                schema=self.schema,
                index=False,
                chunksize=chunksize,
                method="multi",
            )
            swap_in(self.engine, [(shadow, name)], schema=self.schema)
        except DBAPIError as exc:
            clean_leftovers(self.engine, schema=self.schema, name=name)
            raise SQLLayerError(f"could not load the data into {name!r}: {exc.orig}") from exc
        note_write(name)
        self.refresh(name)

    def clean_leftovers(self) -> list[str]:
        """Drop shadow tables that killed builds left in this session's schema."""
        return clean_leftovers(self.engine, schema=self.schema)


def _content_hash(frame: pandas.DataFrame) -> str:
    import pandas as pd

    digest = hashlib.sha1(repr(list(frame.columns)).encode(), usedforsecurity=False)
    digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    return digest.hexdigest()[:16]
