"""Write-audit-publish: a build is checked before it replaces its table.

For a table, a view, an incremental append, an incremental upsert and a two-table stage, on
SQLite and MariaDB: a failing ``error`` check leaves the published rows and version exactly as
they were, fails the task with a message naming the rejected build, marks downstream tasks
``upstream_failed`` and keeps the refused build as ``<table>__rejected`` until the next good
build; a failing ``warn`` check publishes and is recorded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from audit_support import MODELS, STAGED, Database, configure, write_project
from engine_support import migrated, run
from sqlalchemy import Engine, inspect

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sql.audit import Audit
from {{ cookiecutter.package_name }}.sql.checks import row_count
from {{ cookiecutter.package_name }}.sql.ddl import REJECTED_SUFFIX, TMP_SUFFIX, max_identifier
from {{ cookiecutter.package_name }}.sql.session import Session
from {{ cookiecutter.package_name }}.status import CheckStatus, TaskState

__all__ = ["migrated"]


@pytest.fixture
def db(migrated: Settings) -> Iterator[Database]:
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
    write_project(migrated, MODELS, "[row_count(min=3), not_null('id')]")
    good = {"lo": 1, "hi": 5, "materialize": form}
    assert run(configure(migrated, team_report=good)).tasks["team_report"] == TaskState.SUCCESS
    before, version = db.rows("team_report"), db.version("team_report")
    assert (len(before), version) == (5, 1)

    report = run(configure(migrated, team_report={**good, "hi": 2}))

    assert report.tasks == {"team_report": TaskState.FAILED, "consumer": TaskState.UPSTREAM_FAILED}
    assert (db.rows("team_report"), db.version("team_report")) == (before, version)
    message = _rejected_message("team_report", "row_count(min=3): 2 rows", 1, form)
    assert report.errors["team_report"] == message
    assert db.rows("team_report__rejected") == [(1, 10), (2, 20)]
    assert db.checks()[-2:] == [
        ("row_count(min=3)", "error", CheckStatus.FAIL, 1),
        ("not_null(id)", "error", CheckStatus.PASS, 0),
    ]

    assert run(configure(migrated, team_report={**good, "hi": 6})).status == "success"
    assert (len(db.rows("team_report")), db.version("team_report")) == (6, 2)
    assert not db.exists("team_report__rejected")  # the next good build drops it


def test_an_incremental_append_is_checked_with_the_old_rows_it_joins(
    migrated: Settings, db: Database
) -> None:
    write_project(migrated, MODELS, "[unique('id')]")
    batch = {"lo": 1, "hi": 5, "materialize": "incremental"}
    assert run(configure(migrated, team_report=batch)).status == "success"
    before = db.rows("team_report")

    # ids 5..7: the batch alone is unique, but id 5 is already in the table
    report = run(configure(migrated, team_report={**batch, "lo": 5, "hi": 7}))

    assert report.tasks["team_report"] == TaskState.FAILED
    assert report.tasks["consumer"] == TaskState.UPSTREAM_FAILED
    assert (db.rows("team_report"), db.version("team_report")) == (before, 1)
    message = _rejected_message("team_report", "unique(id): 1 row", 1)
    assert report.errors["team_report"] == message
    assert db.rows("team_report__rejected") == [(5, 50), (6, 60), (7, 70)]  # the refused batch

    assert run(configure(migrated, team_report={**batch, "lo": 6, "hi": 7})).status == "success"
    assert len(db.rows("team_report")) == 7
    assert not db.exists("team_report__rejected")


def test_an_incremental_upsert_is_checked_as_the_merged_table(
    migrated: Settings, db: Database
) -> None:
    write_project(migrated, MODELS, "[row_count(max=6)]")
    batch = {"lo": 1, "hi": 5, "materialize": "incremental", "unique_key": "id"}
    assert run(configure(migrated, team_report=batch)).status == "success"
    before = db.rows("team_report")

    # 5 new rows (4..8) pass alone, and 5 old rows pass: merged they are 8 rows
    report = run(configure(migrated, team_report={**batch, "lo": 4, "hi": 8}))

    assert report.tasks["team_report"] == TaskState.FAILED
    assert report.tasks["consumer"] == TaskState.UPSTREAM_FAILED
    assert (db.rows("team_report"), db.version("team_report")) == (before, 1)
    assert report.errors["team_report"] == _rejected_message(
        "team_report", "row_count(max=6): 8 rows", 1
    )
    assert [row[0] for row in db.rows("team_report__rejected")] == [4, 5, 6, 7, 8]


def test_a_failing_check_in_a_stage_publishes_none_of_its_tables(
    migrated: Settings, db: Database
) -> None:
    write_project(migrated, STAGED)
    assert run(configure(migrated, m1={"hi": 5}, m2={"hi": 5})).status == "success"
    before = {name: db.rows(name) for name in ("m1", "m2")}

    report = run(configure(migrated, m1={"hi": 2}, m2={"hi": 2}))

    assert report.tasks["m2"] == TaskState.FAILED
    assert report.tasks["m1"] == TaskState.CANCELLED  # built, then discarded with its stage
    assert report.tasks["report"] == TaskState.UPSTREAM_FAILED
    assert report.errors["m2"] == _rejected_message("m2", "row_count(min=3): 2 rows", 1)
    assert {name: db.rows(name) for name in ("m1", "m2")} == before
    assert (db.version("m1"), db.version("m2")) == (1, 1)
    assert db.rows("m2__rejected") == [(1,), (2,)]

    assert run(configure(migrated, m1={"hi": 4}, m2={"hi": 4})).status == "success"
    assert (len(db.rows("m1")), len(db.rows("m2")), db.version("m2")) == (4, 4, 2)
    assert not db.exists("m2__rejected")


def test_a_failing_warn_check_publishes_and_is_recorded(migrated: Settings, db: Database) -> None:
    write_project(migrated, MODELS, "[row_count(min=3, severity='warn')]")
    report = run(configure(migrated, team_report={"lo": 1, "hi": 2}))
    assert report.tasks == {"team_report": TaskState.SUCCESS, "consumer": TaskState.SUCCESS}
    assert db.rows("team_report") == [(1, 10), (2, 20)]
    assert db.checks() == [("row_count(min=3)", "warn", CheckStatus.WARN, 1)]
    assert not db.exists("team_report__rejected")


def test_a_first_build_refused_by_two_checks_names_both_and_publishes_nothing(
    migrated: Settings, db: Database
) -> None:
    write_project(migrated, MODELS, "[row_count(min=3), unique('id'), row_count(max=1)]")
    report = run(configure(migrated, team_report={"lo": 1, "hi": 2}))
    assert report.errors["team_report"] == (
        "team_report: 2 checks failed (row_count(min=3): 2 rows, row_count(max=1): 2 rows); "
        "no table was published; the rejected build is in team_report__rejected"
    )
    assert not db.exists("team_report")
    assert db.rows("team_report__rejected") == [(1, 10), (2, 20)]


def test_the_longest_table_name_still_gets_a_rejected_copy(engine: Engine) -> None:
    session = Session(engine)
    seed = session.create_dataframe([{"id": 1}], name="seed")
    name = "t" * min(max_identifier(engine) - len(TMP_SUFFIX), 120)  # the longest allowed
    audit = Audit([row_count(min=2)])
    seed.materialize(name, audit=audit)
    assert audit.rejected is not None and audit.rejected.endswith(REJECTED_SUFFIX)
    assert len(audit.rejected) <= max_identifier(engine)
    assert inspect(engine).has_table(audit.rejected)
    assert not inspect(engine).has_table(name)
