"""The PostgreSQL server of ``POSTGRES_URL``, as a PostgreSQL bake's `.env` should name it.

The server's user may create databases (the generated project's init SQL gives the pipeline's
user CREATEDB), so each PostgreSQL bake gets a throwaway database of its own, created and
dropped through the bake's own venv (SQLAlchemy and psycopg are the project's dependencies, not
the template's).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

# CREATE and DROP DATABASE cannot run inside a transaction block.
EXECUTE = """
import sys
from sqlalchemy import create_engine, text

engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    conn.execute(text(sys.argv[2]))
engine.dispose()
"""


@dataclass(frozen=True)
class PostgresServer:
    url: str  # postgresql+psycopg://user:password@host:port/postgres

    def connection(self, database: str) -> dict[str, str]:
        """The `.env` variables of a PostgreSQL bake's settings.yml, for ``database`` here."""
        parts = urlsplit(self.url)
        return {
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or ""),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_DB": database,
        }

    def dotenv(self, example: Path, database: str) -> str:
        """The bake's `.env.example`, its connection variables set to ``database`` here."""
        values = self.connection(database)
        lines = []
        for line in example.read_text(encoding="utf-8").splitlines():
            name = line.partition("=")[0]
            lines.append(f"{name}={values[name]}" if name in values else line)
        return "\n".join(lines) + "\n"

    def create(self, python: Path, database: str) -> None:
        self._execute(python, f'CREATE DATABASE "{database}"')

    def drop(self, python: Path, database: str) -> None:
        self._execute(python, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def _execute(self, python: Path, statement: str) -> None:
        subprocess.run([str(python), "-c", EXECUTE, self.url, statement], check=True, timeout=120)
