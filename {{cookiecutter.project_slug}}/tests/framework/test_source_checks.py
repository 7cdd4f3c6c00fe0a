"""Checks on the tables a pipeline reads but does not build (``sources:`` in settings.yml), and
the ``freshness`` check: a stale or broken source stops the tasks that read it, before they run."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from engine_support import cli, migrated, reload, run, task_rows, write_models
from sqlalchemy import Engine, text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.models import CHECKS
from {{ cookiecutter.package_name }}.errors import SettingsError, SQLLayerError
from {{ cookiecutter.package_name }}.settings import Settings, load_settings
from {{ cookiecutter.package_name }}.source_settings import parse_duration
from {{ cookiecutter.package_name }}.sql.checks import checks_from_config
from {{ cookiecutter.package_name }}.sql.freshness import freshness
from {{ cookiecutter.package_name }}.status import CheckStatus, Severity, TaskState
from {{ cookiecutter.package_name }}.system import utcnow

__all__ = ["migrated"]

MODELS = """
    from {{ cookiecutter.package_name }}.core.task import Task

    @Task()
    def match_report(session):
        return session.sources("raw_matches").select("id", "home")

    @Task(depends_on=[match_report])
    def season_report(session):
        return session.table("match_report")

    @Task()
    def other(session):
        return session.sql("SELECT 1 AS one")
"""
SOURCE = {
    "checks": [{"not_null": ["id"]}],
    "freshness": {"column": "loaded_at", "warn_after": "1d", "error_after": "3d"},
}


# -- settings ------------------------------------------------------------------------------
def _settings_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "settings.yml"
    path.write_text("project:\n  name: x\n" + body, encoding="utf-8")
    return path


def test_durations_read_minutes_hours_and_days() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("2d") == timedelta(days=2)
    with pytest.raises(ValueError, match="30m, 12h, 2d"):
        parse_duration("2 days")


def test_a_source_names_its_own_table_unless_told(tmp_path: Path) -> None:
    body = "sources:\n  raw_matches:\n    freshness: {column: loaded_at, warn_after: 12h}\n"
    settings = load_settings(_settings_file(tmp_path, body + "  old:\n    table: legacy\n"))
    assert settings.sources["raw_matches"].table == "raw_matches"
    assert settings.sources["raw_matches"].freshness.warn_after == timedelta(hours=12)
    assert settings.sources["old"].table == "legacy"


def test_a_bad_duration_names_the_key_and_line(tmp_path: Path) -> None:
    body = "sources:\n  raw_matches:\n    freshness:\n      column: loaded_at\n      warn_after: soon\n"
    with pytest.raises(SettingsError) as caught:
        load_settings(_settings_file(tmp_path, body))
    assert caught.value.exit_code == 2
    assert "sources.raw_matches.freshness.warn_after (line 7)" in str(caught.value)
    assert "'soon' is not a duration" in str(caught.value)


def test_warn_after_longer_than_error_after_is_refused(tmp_path: Path) -> None:
    body = "sources:\n  raw:\n    freshness: {column: at, warn_after: 3d, error_after: 1d}\n"
    with pytest.raises(SettingsError, match="warn_after is longer than error_after"):
        load_settings(_settings_file(tmp_path, body))


def test_a_task_reading_an_unknown_source_names_the_key_and_line(tmp_path: Path) -> None:
    body = "sources:\n  raw_matches: {}\ntasks:\n  report:\n    sources: [raw_matchs]\n"
    with pytest.raises(SettingsError) as caught:
        load_settings(_settings_file(tmp_path, body))
    message = str(caught.value)
    assert "tasks.report.sources.0 (line 7): no source 'raw_matchs'" in message
    assert "known: raw_matches" in message


# -- the freshness check -------------------------------------------------------------------
def _loaded(engine: Engine, *ages: timedelta) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS raw_matches"))
        stamp = "TIMESTAMP" if conn.dialect.name == "postgresql" else "DATETIME"
        conn.execute(text(f"CREATE TABLE raw_matches (id INTEGER, home TEXT, loaded_at {stamp})"))
        for number, age in enumerate(ages, 1):
            conn.execute(
                text("INSERT INTO raw_matches VALUES (:id, 'x', :at)"),
                {"id": number, "at": utcnow() - age},
            )


@pytest.mark.parametrize(
    ("age", "bounds", "status", "severity"),
    [
        (timedelta(hours=2), {"warn_after": "3h"}, CheckStatus.PASS, Severity.WARN),
        (timedelta(hours=4), {"warn_after": "3h"}, CheckStatus.WARN, Severity.WARN),
        (timedelta(hours=4), {"warn_after": "3h", "error_after": "5h"}, "warn", Severity.WARN),
        (timedelta(hours=6), {"warn_after": "3h", "error_after": "5h"}, "fail", Severity.ERROR),
        (timedelta(minutes=50), {"error_after": "1h"}, CheckStatus.PASS, Severity.ERROR),
        (timedelta(minutes=70), {"error_after": "1h"}, CheckStatus.FAIL, Severity.ERROR),
    ],
)
def test_freshness_warns_and_fails_at_its_bounds(
    engine: Engine, age: timedelta, bounds: dict[str, str], status: str, severity: str
) -> None:
    _loaded(engine, age, age * 3)  # the newest row counts, not the oldest
    outcome = freshness("loaded_at", **bounds).run(engine, default_table="raw_matches")
    assert (outcome.status, outcome.severity) == (status, severity)
    if status != CheckStatus.PASS:
        assert json.loads(outcome.sample)[0]["age"].endswith("hours")


def test_an_empty_table_is_stale(engine: Engine) -> None:
    _loaded(engine)
    outcome = freshness("loaded_at", error_after="1d").run(engine, default_table="raw_matches")
    assert outcome.status == CheckStatus.FAIL
    assert json.loads(outcome.sample)[0]["age"] == "no rows"


def test_a_missing_freshness_column_is_named_with_the_columns_there_are(engine: Engine) -> None:
    _loaded(engine, timedelta(0))
    outcome = freshness("loadedat", warn_after="1d").run(engine, default_table="raw_matches")
    assert outcome.status == CheckStatus.ERROR
    assert "no column(s) ['loadedat']" in outcome.sample and "loaded_at" in outcome.sample


def test_freshness_is_written_in_settings_like_the_other_checks() -> None:
    (check,) = checks_from_config([{"freshness": {"column": "at", "error_after": "2d"}}])
    assert check.name == "freshness(at, error_after=2d)"
    with pytest.raises(SQLLayerError, match="not a duration"):
        checks_from_config([{"freshness": {"column": "at", "error_after": "2 days"}}])


# -- a run reads its sources' checks first -------------------------------------------------
def _with_source(settings: Settings, source: dict[str, object]) -> Settings:
    path = settings.root / "settings.yml"
    data = yaml.safe_load(path.read_text())
    data["sources"] = {"raw_matches": source}
    data["tasks"] = {"match_report": {"sources": ["raw_matches"]}}
    path.write_text(yaml.safe_dump(data))
    write_models(settings.root, MODELS)
    return reload(settings)


def _source_checks(settings: Settings, run_id: str) -> tuple[str, dict[str, str]]:
    (row,) = [r for r in task_rows(settings, run_id) if r.task == "source:raw_matches"]
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(CHECKS.select().where(CHECKS.c.task_run_id == row.id)).all()
    finally:
        engine.dispose()
    return row.status, {r.name: r.status for r in rows}


def test_a_stale_source_stops_its_task_and_the_tasks_downstream(migrated: Settings) -> None:
    settings = _with_source(migrated, SOURCE)
    engine = make_engine(settings.database_url)
    _loaded(engine, timedelta(days=4))
    engine.dispose()
    report = run(settings)
    assert report.tasks == {
        "match_report": TaskState.UPSTREAM_FAILED,
        "season_report": TaskState.UPSTREAM_FAILED,
        "other": TaskState.SUCCESS,
    }
    reason = next(r.reason for r in task_rows(settings, report.run_id) if r.task == "match_report")
    assert reason == (
        "source 'raw_matches' failed its checks: "
        "freshness(loaded_at, warn_after=1d, error_after=3d): newest 4.0 days old"
    )
    status, checks = _source_checks(settings, report.run_id)
    assert status == TaskState.FAILED
    assert checks == {
        "not_null(id)": "pass",
        "freshness(loaded_at, warn_after=1d, error_after=3d)": "fail",
    }


def test_a_fresh_source_lets_its_tasks_run_and_a_warning_is_recorded(migrated: Settings) -> None:
    settings = _with_source(migrated, SOURCE)
    engine = make_engine(settings.database_url)
    _loaded(engine, timedelta(days=2))
    engine.dispose()
    report = run(settings)
    assert set(report.tasks.values()) == {TaskState.SUCCESS}, report.reasons
    status, checks = _source_checks(settings, report.run_id)
    assert status == TaskState.SUCCESS
    assert checks["freshness(loaded_at, warn_after=1d, error_after=3d)"] == "warn"


def test_the_cli_run_and_test_check_sources(migrated: Settings) -> None:
    settings = _with_source(migrated, SOURCE)
    engine = make_engine(settings.database_url)
    _loaded(engine, timedelta(0))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO raw_matches VALUES (NULL, 'y', NULL)"))
    engine.dispose()
    result = cli(settings, "run")
    assert result.returncode == 1
    shown = " ".join((result.stdout + result.stderr).split())
    assert "source 'raw_matches' failed its checks: not_null(id): 1 row" in shown, shown
    result = cli(settings, "test", "--select", "match_report")
    assert result.returncode == 1
    assert "source:raw_matches" in result.stdout and "Traceback" not in result.stderr


def test_a_misspelt_source_check_stops_the_run_with_its_line(migrated: Settings) -> None:
    settings = _with_source(migrated, {"checks": [{"not_nul": ["id"]}]})
    result = cli(settings, "run")
    assert result.returncode == 2, result.stdout + result.stderr
    shown = " ".join(result.stderr.split())
    assert re.search(
        r"sources\.raw_matches \(line \d+\): checks\[0\]: unknown check 'not_nul'", shown
    )
    assert "Traceback" not in shown
    assert task_rows(settings) == []
