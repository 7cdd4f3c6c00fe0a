"""Write-audit-publish: a build is checked before it replaces its table.

For a table, a view, an incremental append, an incremental upsert and a two-table stage, on
SQLite and MariaDB: a failing ``error`` check leaves the published rows and version exactly as
they were, fails the task with a message naming the rejected build, marks downstream tasks
``upstream_failed`` and keeps the refused build as ``<table>__rejected`` until the next good
build; a failing ``warn`` check publishes and is recorded.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from engine_support import migrated, reload, run, write_models
from sqlalchemy import Engine, MetaData, Table, inspect, select

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.ledger_reads import published_version
from {{ cookiecutter.package_name }}.db.models import CheckResult
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sql.session import Session
from {{ cookiecutter.package_name }}.status import CheckStatus, TaskState

__all__ = ["migrated"]

# team_report holds seed rows `lo..hi` (from its config) with v = id * 10; consumer reads it. The check list is filled in per test.
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


def _models(settings: Settings, source: str, checks: str = "[]") -> None:
    package = Session.__module__.split(".")[0]
    write_models(settings.root, source.replace("PACKAGE", package).replace("CHECKS", checks))
    engine = make_engine(settings.database_url)
    try:
        Session(engine).create_dataframe([{"id": i} for i in range(1, 21)], name="seed")
    finally:
        engine.dispose()


def _configure(settings: Settings, **tasks: dict[str, Any]) -> Settings:
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


@pytest.fixture
def db(migrated: Settings) -> Database:
    database = Database(migrated)
    yield database
    database.engine.dispose()


def _rejected_message(task: str, detail: str, version: int, what: str = "table") -> str:
    return (
        f"{task}: 1 check failed ({detail}); published {what} unchanged (version {version}); "
        f"the rejected build is in {task}__rejected"
    )


@pytest.mark.parametrize("form", ["table", "view"])
def test_a_failing_error_check_leaves_the_published_table_or_view_as_it_was(
    migrated: Settings, db: Database, form: str
) -> None:
    _models(migrated, MODELS, "[row_count(min=3), not_null('id')]")
    good = {"lo": 1, "hi": 5, "materialize": form}
    assert run(_configure(migrated, team_report=good)).tasks["team_report"] == TaskState.SUCCESS
    before, version = db.rows("team_report"), db.version("team_report")
    assert (len(before), version) == (5, 1)

    report = run(_configure(migrated, team_report={**good, "hi": 2}))

    assert report.tasks == {"team_report": TaskState.FAILED, "consumer": TaskState.UPSTREAM_FAILED}
    message = _rejected_message("team_report", "row_count(min=3): 2 rows", 1, form)
    assert report.errors["team_report"] == message
    assert (db.rows("team_report"), db.version("team_report")) == (before, version)
    assert db.rows("team_report__rejected") == [(1, 10), (2, 20)]
    assert db.checks()[-2:] == [
        ("row_count(min=3)", "error", CheckStatus.FAIL, 1),
        ("not_null(id)", "error", CheckStatus.PASS, 0),
    ]

    assert run(_configure(migrated, team_report={**good, "hi": 6})).status == "success"
    assert (len(db.rows("team_report")), db.version("team_report")) == (6, 2)
    assert not db.exists("team_report__rejected")  # the next good build drops it


def test_an_incremental_append_is_checked_with_the_old_rows_it_joins(
    migrated: Settings, db: Database
) -> None:
    _models(migrated, MODELS, "[unique('id')]")
    batch = {"lo": 1, "hi": 5, "materialize": "incremental"}
    assert run(_configure(migrated, team_report=batch)).status == "success"
    before = db.rows("team_report")

    # ids 5..7: the batch alone is unique, but id 5 is already in the table
    report = run(_configure(migrated, team_report={**batch, "lo": 5, "hi": 7}))

    assert report.tasks["team_report"] == TaskState.FAILED
    assert report.tasks["consumer"] == TaskState.UPSTREAM_FAILED
    message = _rejected_message("team_report", "unique(id): 1 row", 1)
    assert report.errors["team_report"] == message
    assert (db.rows("team_report"), db.version("team_report")) == (before, 1)
    assert db.rows("team_report__rejected") == [(5, 50), (6, 60), (7, 70)]  # the refused batch

    assert run(_configure(migrated, team_report={**batch, "lo": 6, "hi": 7})).status == "success"
    assert len(db.rows("team_report")) == 7
    assert not db.exists("team_report__rejected")


def test_an_incremental_upsert_is_checked_as_the_merged_table(
    migrated: Settings, db: Database
) -> None:
    _models(migrated, MODELS, "[row_count(max=6)]")
    batch = {"lo": 1, "hi": 5, "materialize": "incremental", "unique_key": "id"}
    assert run(_configure(migrated, team_report=batch)).status == "success"
    before = db.rows("team_report")

    # 5 new rows (4..8) pass alone, and 5 old rows pass: merged they are 8 rows
    report = run(_configure(migrated, team_report={**batch, "lo": 4, "hi": 8}))

    assert report.tasks["team_report"] == TaskState.FAILED
    assert report.tasks["consumer"] == TaskState.UPSTREAM_FAILED
    assert report.errors["team_report"] == _rejected_message(
        "team_report", "row_count(max=6): 8 rows", 1
    )
    assert (db.rows("team_report"), db.version("team_report")) == (before, 1)
    assert [row[0] for row in db.rows("team_report__rejected")] == [4, 5, 6, 7, 8]


def test_a_failing_check_in_a_stage_publishes_none_of_its_tables(
    migrated: Settings, db: Database
) -> None:
    _models(migrated, STAGED)
    assert run(_configure(migrated, m1={"hi": 5}, m2={"hi": 5})).status == "success"
    before = {name: db.rows(name) for name in ("m1", "m2")}

    report = run(_configure(migrated, m1={"hi": 2}, m2={"hi": 2}))

    assert report.tasks["m2"] == TaskState.FAILED
    assert report.tasks["m1"] == TaskState.CANCELLED  # built, then discarded with its stage
    assert report.tasks["report"] == TaskState.UPSTREAM_FAILED
    assert report.errors["m2"] == _rejected_message("m2", "row_count(min=3): 2 rows", 1)
    assert {name: db.rows(name) for name in ("m1", "m2")} == before
    assert (db.version("m1"), db.version("m2")) == (1, 1)
    assert db.rows("m2__rejected") == [(1,), (2,)]

    assert run(_configure(migrated, m1={"hi": 4}, m2={"hi": 4})).status == "success"
    assert (len(db.rows("m1")), len(db.rows("m2")), db.version("m2")) == (4, 4, 2)
    assert not db.exists("m2__rejected")


def test_a_failing_warn_check_publishes_and_is_recorded(migrated: Settings, db: Database) -> None:
    _models(migrated, MODELS, "[row_count(min=3, severity='warn')]")
    report = run(_configure(migrated, team_report={"lo": 1, "hi": 2}))
    assert report.tasks == {"team_report": TaskState.SUCCESS, "consumer": TaskState.SUCCESS}
    assert db.rows("team_report") == [(1, 10), (2, 20)]
    assert db.checks() == [("row_count(min=3)", "warn", CheckStatus.WARN, 1)]
    assert not db.exists("team_report__rejected")
