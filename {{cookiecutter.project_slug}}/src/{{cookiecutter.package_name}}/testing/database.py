"""A throwaway, migrated database for tests of the project's tasks.

SQLite by default. A project made for MySQL or PostgreSQL tests on that server when
``MYSQL_URL`` / ``POSTGRES_URL`` name one (a user allowed to create databases): each test gets a
database of its own, dropped afterwards.
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from alembic import command
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from tenacity import Retrying, stop_after_attempt, wait_fixed

from ..db.diagnosis import ensure_connects
from ..db.engine import make_engine
from ..db.schema import alembic_config
from ..settings import SETTINGS_FILE, Settings, load_settings

__all__ = ["SERVER_VARIABLES", "PipelineDb", "pipeline_database", "project_backend", "server_for"]

# The environment variable naming a test server for each server dialect.
SERVER_VARIABLES = {"mysql": "MYSQL_URL", "postgresql": "POSTGRES_URL"}


@dataclass(frozen=True)
class PipelineDb:
    """A migrated test database, and the project's settings pointed at it (its data folder too:
    raw copies of ingested files go to the test's own folder)."""

    settings: Settings
    engine: Engine
    workdir: Path

    @property
    def url(self) -> URL:
        """The test database's URL."""
        return self.engine.url


def project_backend(root: Path) -> str:
    """The dialect the project's settings.yml connects to: sqlite, mysql or postgresql."""
    raw = _raw_settings(root).get("connection") or {}
    named = str(raw.get("url") or raw.get("sql_alchemy_driver") or "sqlite")
    for backend in SERVER_VARIABLES:
        if named.startswith(backend):
            return backend
    return "sqlite"


def server_for(root: Path) -> str | None:
    """The test server for the project's dialect, when its variable is set (else SQLite)."""
    variable = SERVER_VARIABLES.get(project_backend(root))
    return os.environ.get(variable) or None if variable else None


@contextmanager
def pipeline_database(
    root: Path, workdir: Path, server: str | None = None, template: Path | None = None
) -> Iterator[PipelineDb]:
    """A fresh database migrated to head, with the project at ``root`` set to use it.

    ``server``: a MySQL or PostgreSQL URL to create the database on (else a SQLite file in
    ``workdir``). ``template``: a migrated SQLite file to copy instead of migrating again.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    with _database(server, workdir) as url:
        settings = _test_settings(root, workdir, url)
        engine = make_engine(settings.database_url)
        try:
            if template is not None and server is None:
                shutil.copyfile(template, workdir / "test.db")
            else:
                migrate(settings, engine)
            yield PipelineDb(settings, engine, workdir)
        finally:
            engine.dispose()


def migrate(settings: Settings, engine: Engine) -> None:
    """``alembic upgrade head`` on ``engine`` (not on whatever settings.yml names)."""
    config = alembic_config(settings)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def _database(server: str | None, workdir: Path) -> Iterator[str]:
    if server is None:
        yield f"sqlite:///{workdir / 'test.db'}"
        return
    with fresh_server_database(server) as url:
        yield url.render_as_string(hide_password=False)


@contextmanager
def fresh_server_database(server: str | URL) -> Iterator[URL]:
    """A new, empty database on the MySQL or PostgreSQL server at ``server``, dropped after."""
    url = make_url(server)
    name = f"test_{uuid.uuid4().hex[:12]}"
    mysql = url.get_backend_name() == "mysql"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    ensure_connects(admin)  # a server down or refusing the login: one paragraph naming the fix
    try:
        with admin.connect() as conn:
            if mysql:
                conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            else:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name)
    finally:
        with admin.connect() as conn:
            if mysql:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            else:
                _drop_postgres_database(conn, name)
        admin.dispose()


def _drop_postgres_database(conn: Connection, name: str) -> None:
    """Drop it, ending the sessions a test left open (FORCE), though autovacuum may be
    analysing what the test loaded: FORCE may not end the superuser's worker, a plain DROP
    does. Each in turn, a few times."""
    for attempt in Retrying(stop=stop_after_attempt(5), wait=wait_fixed(1), reraise=True):
        with attempt:
            try:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except DBAPIError:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


def _raw_settings(root: Path) -> dict[str, Any]:
    """settings.yml as parsed YAML, a copy of its one parse (every test database reads it)."""
    path = root / SETTINGS_FILE
    return copy.deepcopy(_parsed(path, path.stat().st_mtime_ns))


@functools.cache
def _parsed(path: Path, _mtime_ns: int) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _test_settings(root: Path, workdir: Path, url: str) -> Settings:
    """The project's settings.yml with the test database as its connection and the test's
    folder as its data folder; models, migrations and sources still come from ``root``."""
    data = _raw_settings(root)
    data["connection"] = {"url": url}
    if isinstance(data.get("dashboard"), dict):
        data["dashboard"].pop("url", None)
    project = data.get("project")
    if isinstance(project, dict):
        project["data_dir"] = str(workdir / "data")
    path = workdir / SETTINGS_FILE
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    if (root / ".env").is_file():
        shutil.copyfile(root / ".env", workdir / ".env")
    settings = load_settings(path)
    return settings.model_copy(update={"root": root.resolve(), "database_url_env": None})
