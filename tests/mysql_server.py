"""The MySQL/MariaDB server of ``MYSQL_URL``, as a MySQL bake's `.env` should name it.

The server's user may create ``test_*`` databases (the generated project's init SQL grants it),
so each MySQL bake gets a throwaway database of its own, created and dropped through the bake's
own venv (SQLAlchemy and PyMySQL are the project's dependencies, not the template's).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

EXECUTE = """
import sys
from sqlalchemy import create_engine, text

engine = create_engine(sys.argv[1])
with engine.begin() as conn:
    conn.execute(text(sys.argv[2]))
engine.dispose()
"""


@dataclass(frozen=True)
class MySQLServer:
    url: str  # mysql+pymysql://user:password@host:port/

    def connection(self, database: str) -> dict[str, str]:
        """The `.env` variables of a MySQL bake's settings.yml, for ``database`` here."""
        parts = urlsplit(self.url)
        return {
            "MYSQL_HOST": parts.hostname or "127.0.0.1",
            "MYSQL_PORT": str(parts.port or 3306),
            "MYSQL_USER": unquote(parts.username or ""),
            "MYSQL_PASSWORD": unquote(parts.password or ""),
            "MYSQL_DATABASE": database,
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
        self._execute(python, f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")

    def drop(self, python: Path, database: str) -> None:
        self._execute(python, f"DROP DATABASE IF EXISTS `{database}`")

    def _execute(self, python: Path, statement: str) -> None:
        subprocess.run([str(python), "-c", EXECUTE, self.url, statement], check=True, timeout=120)
