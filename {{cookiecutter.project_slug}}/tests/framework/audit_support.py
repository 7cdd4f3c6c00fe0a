"""Helpers for the write-audit-publish tests: a small project whose table ``team_report`` is
built from a seed with per-run config, and reads of the test database (rows, versions, checks)."""

from __future__ import annotations

import time
from typing import Any

import yaml
from engine_support import reload, write_models
from sqlalchemy import Engine, MetaData, Table, inspect, select, text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.ledger_reads import published_version
from {{ cookiecutter.package_name }}.db.models import CheckResult
from {{ cookiecutter.package_name }}.db.mysql_lock import lock_name
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sql.session import Session

# team_report holds seed rows `lo..hi` (from its config) with v = id * 10; consumer reads it.
# CHECKS, the check list, is filled in per test.
MODELS = """
    from PACKAGE.core.task import Task
    from PACKAGE.sql.checks import not_null, row_count, unique

    @Task(checks=CHECKS)
    def team_report(session, config):
        seed = session.table("seed")
        rows = seed.where((seed.id >= config["lo"]) & (seed.id <= config["hi"]))
        return rows.with_column("v", rows.id * 10)

    @Task(depends_on=[team_report])
    def consumer(session):
        return session.table("team_report")
"""

STAGED = """
    from PACKAGE.core.task import Task
    from PACKAGE.sql.checks import row_count

    @Task(stage="marts")
    def m1(session, config):
        seed = session.table("seed")
        return seed.where(seed.id <= config["hi"])

    @Task(stage="marts", checks=[row_count(min=3)])
    def m2(session, config):
        seed = session.table("seed")
        return seed.where(seed.id <= config["hi"])

    @Task(depends_on=[m1, m2])
    def report(session):
        return session.table("m1")
"""


def write_project(settings: Settings, source: str, checks: str = "[]") -> None:
    package = Session.__module__.split(".")[0]
    write_models(settings.root, source.replace("PACKAGE", package).replace("CHECKS", checks))
    engine = make_engine(settings.database_url)
    try:
        Session(engine).create_dataframe([{"id": i} for i in range(1, 21)], name="seed")
    finally:
        engine.dispose()


def configure(settings: Settings, **tasks: dict[str, Any]) -> Settings:
    """Rewrite settings.yml's ``tasks:`` block and read the settings again."""
    path = settings.root / "settings.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["tasks"] = tasks
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return reload(settings)


class Database:
    """Reads of the test database: rows of a table, its published version, its objects."""

    def __init__(self, settings: Settings):
        self.engine: Engine = make_engine(settings.database_url)

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        reflected = Table(table, MetaData(), autoload_with=self.engine)
        with self.engine.connect() as conn:
            return sorted(tuple(row) for row in conn.execute(select(reflected)))

    def version(self, task: str) -> int:
        with self.engine.connect() as conn:
            return published_version(conn, task)

    def exists(self, name: str) -> bool:
        inspector = inspect(self.engine)
        return name in [*inspector.get_table_names(), *inspector.get_view_names()]

    def checks(self) -> list[tuple[str, str, str, int]]:
        table = CheckResult.__table__
        query = select(table.c.name, table.c.severity, table.c.status, table.c.failing_rows)
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query.order_by(table.c.id))]

    def wait_for_the_lock(self) -> None:
        """MySQL frees a killed run's ``GET_LOCK`` once it sees the connection closed."""
        if self.engine.dialect.name not in ("mysql", "mariadb"):
            return
        deadline = time.monotonic() + 10
        with self.engine.connect() as conn:
            key = {"key": lock_name(self.engine)}
            while conn.scalar(text("SELECT IS_USED_LOCK(:key)"), key) is not None:
                assert time.monotonic() < deadline, "the server never freed the run lock"
                time.sleep(0.02)
