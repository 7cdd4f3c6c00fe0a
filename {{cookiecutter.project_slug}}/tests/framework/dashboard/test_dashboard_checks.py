"""The dashboard shows each data check of a run and marks a table whose last build was rejected.

The project runs a pipeline twice for real: first every check passes; then ``team_scores`` has
shrunk to 21 rows with one team outside the league, and ``team_report``'s checks find it:
``row_count(min=50)`` fails, ``accepted_values`` (severity warn) warns, and ``not_null`` on a
table dropped in between cannot run. ``team_digest`` (no checks) is then upstream_failed.
The refused build is kept beside the published table as ``team_report__rejected``, as the
publish step leaves it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
import yaml
from sqlalchemy import create_engine, inspect, text
from streamlit.testing.v1 import AppTest
from test_dashboard_browser import (  # noqa: F401 (artifacts is a fixture)
    _CUT_LABELS,
    PACKAGE,
    SRC,
    _expect,
    _free_port,
    _require_browser,
    _settle,
    _wait_until_healthy,
    artifacts,
    browser_page,
)

from {{ cookiecutter.package_name }}.core.runner import run_pipeline
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.status import RunState

MODELS = f"""
from {PACKAGE}.core.task import Task
from {PACKAGE}.sql.checks import accepted_values, not_null, row_count, unique


@Task(
    checks=[
        row_count(min=50),
        unique("team"),
        accepted_values("league", ["EPL"], severity="warn"),
        not_null("team", table="team_owners"),
    ]
)
def team_report(session):
    return session.table("team_scores")


@Task(depends_on=[team_report])
def team_digest(session):
    return session.table("team_report")


@Task(checks=[not_null("team")])
def team_names(session):
    return session.table("team_scores").select("team")
"""

PROJECT_ROOT = Path(__file__).resolve().parents[3]
REJECTED = "team_report__rejected"
# A table whose only build so far was refused: nothing is published under its name.
NEVER_PUBLISHED = "league_table"


@dataclass(frozen=True)
class Checked:
    """A project whose database holds a run whose checks passed, then one whose checks failed."""

    root: Path
    database_url: str
    ok_run: str
    failed_run: str


def _project(root: Path, dashboard_url: str | None) -> Path:
    """This project's settings and migrations, with the models above and no others."""
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    for name in ("settings.yml", "alembic.ini"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(PROJECT_ROOT / "migrations", root / "migrations")
    (root / "models" / "teams.py").write_text(textwrap.dedent(MODELS), encoding="utf-8")
    settings = yaml.safe_load((root / "settings.yml").read_text(encoding="utf-8"))
    settings.setdefault("dashboard", {})["url"] = dashboard_url
    (root / "settings.yml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return root


def _sql(database_url: str, *statements: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _write_scores(database_url: str, teams: int, *, outsider: bool) -> None:
    rows = [{"team": f"team {i:02d}", "league": "EPL", "points": i} for i in range(teams)]
    if outsider:
        rows.append({"team": "Juventus", "league": "Serie A", "points": 80})
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM team_scores"))
        conn.execute(text("INSERT INTO team_scores VALUES (:team, :league, :points)"), rows)
    engine.dispose()


def _keep_rejected_build(database_url: str) -> None:
    """The tables the publish leaves after a refused build: ``team_report__rejected`` holding
    the 21 refused rows (copied from the run's output when the publish did not keep it) and
    the refused first build of a table never published."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        if not inspect(conn).has_table(REJECTED):
            conn.execute(text(f"CREATE TABLE {REJECTED} AS SELECT * FROM team_report"))
        conn.execute(text(f"CREATE TABLE {NEVER_PUBLISHED}__rejected (team VARCHAR(40))"))
        conn.execute(text(f"INSERT INTO {NEVER_PUBLISHED}__rejected VALUES ('Arsenal')"))
    engine.dispose()


@pytest.fixture(scope="module")
def checked(backend_url, tmp_path_factory: pytest.TempPathFactory) -> Checked:
    database_url, reader_url = backend_url
    root = _project(tmp_path_factory.mktemp("checks") / "project", reader_url)
    database_url = database_url or f"sqlite:///{root / 'data' / 'warehouse.db'}"
    _sql(
        database_url,
        "CREATE TABLE team_scores (team VARCHAR(40), league VARCHAR(20), points INT)",
        "CREATE TABLE team_owners (team VARCHAR(40))",
    )
    _write_scores(database_url, 60, outsider=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        patch.setenv("PIPELINE_SETTINGS", str(root / "settings.yml"))
        settings = load_settings(root / "settings.yml")
        upgrade(settings)
        ok = run_pipeline(settings)
        _write_scores(database_url, 20, outsider=True)
        _sql(database_url, "DROP TABLE team_owners")
        failed = run_pipeline(settings, full_refresh=True)
    assert ok.status == RunState.SUCCESS, ok
    assert failed.status == RunState.FAILED, failed
    _keep_rejected_build(database_url)
    return Checked(root, database_url, str(ok.run_id), str(failed.run_id))


@pytest.fixture
def open_page(
    checked: Checked, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., AppTest]]:
    """The dashboard in AppTest on the checked project's database."""
    monkeypatch.setenv("DATABASE_URL", checked.database_url)
    monkeypatch.setenv("PIPELINE_SETTINGS", str(checked.root / "settings.yml"))
    yield _open
    st.cache_data.clear()


def _app(package: str, start: str) -> None:
    import importlib

    importlib.import_module(f"{package}.dashboard.navigation").main(start)


def _open(page: str, **query: str) -> AppTest:
    app = AppTest.from_function(_app, args=(PACKAGE, page), default_timeout=60)
    app.query_params.update(query)
    return app.run()


def texts(app: AppTest) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "warning", "error", "code")
    parts = [element.value for kind in kinds for element in getattr(app, kind)]
    parts += [f"{metric.label}: {metric.value}" for metric in app.metric]
    return "\n".join(str(part) for part in parts)


def frames(app: AppTest) -> list[pd.DataFrame]:
    return [getattr(frame.value, "data", frame.value) for frame in app.dataframe]


def expanders(app: AppTest, containing: str = "") -> dict[str, object]:
    return {element.label: element for element in app.expander if containing in element.label}


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [exc.value for exc in app.exception]
    assert not app.error, [error.value for error in app.error]


# --- run detail -------------------------------------------------------------------------------


def test_run_detail_counts_the_failed_checks_in_its_headline(open_page, checked) -> None:
    app = open_page("run-detail", run=checked.failed_run)
    assert_clean(app)
    assert "Checks failed: 2 of 5" in texts(app)  # row_count failed, not_null could not run
    assert "Data checks (2 failed, 1 warned)" in texts(app)


def test_run_detail_lists_each_task_with_checks_failing_ones_open(open_page, checked) -> None:
    app = open_page("run-detail", run=checked.failed_run)
    shown = expanders(app, " · checks: ")
    report = next(label for label in shown if "team_report" in label)
    names = next(label for label in shown if "team_names" in label)
    assert "2 of 4 failed, 1 warned" in report and shown[report].proto.expanded
    assert "all 1 passed" in names and not shown[names].proto.expanded
    assert not any("team_digest" in label for label in shown)  # no checks: not listed
    assert list(shown).index(report) < list(shown).index(names)  # failures first


def test_run_detail_shows_each_check_severity_result_and_failing_count(open_page, checked) -> None:
    app = open_page("run-detail", run=checked.failed_run)
    table = next(frame for frame in frames(app) if "result" in frame and len(frame) == 4)
    outcome = table.set_index("check")
    assert outcome.at["row_count(min=50)", "result"] == "fail"
    assert outcome.at["row_count(min=50)", "severity"] == "error"
    assert outcome.at["unique(team)", "result"] == "pass"
    assert outcome.at["accepted_values(league, ['EPL'])", "result"] == "warn"
    assert outcome.at["accepted_values(league, ['EPL'])", "severity"] == "warn"
    assert outcome.at["accepted_values(league, ['EPL'])", "failing rows"] == "1"
    assert outcome.at["not_null(team)", "result"] == "error"
    assert outcome.at["not_null(team)", "failing rows"] == ""  # it counted nothing


def test_run_detail_draws_the_sample_of_failing_rows_as_a_table(open_page, checked) -> None:
    app = open_page("run-detail", run=checked.failed_run)
    samples = [frame for frame in frames(app) if "result" not in frame]
    by_columns = {tuple(frame.columns): frame for frame in samples}
    count = by_columns[("rows", "min", "max")]
    assert count.iloc[0]["rows"] in (21, "21") and count.iloc[0]["min"] in (50, "50")
    outsider = next(frame for cols, frame in by_columns.items() if "league" in cols)
    assert list(outsider["team"]) == ["Juventus"] and list(outsider["league"]) == ["Serie A"]


def test_run_detail_shows_the_message_of_a_check_that_could_not_run(open_page, checked) -> None:
    app = open_page("run-detail", run=checked.failed_run)
    messages = [block.value for block in app.code]
    assert any("team_owners" in message for message in messages), messages
    assert not any(message.startswith('{"error"') for message in texts(app).splitlines())


def test_run_detail_of_a_run_whose_checks_passed(open_page, checked) -> None:
    app = open_page("run-detail", run=checked.ok_run)
    assert_clean(app)
    assert "Checks failed: 0 of 5" in texts(app)
    assert not any(element.proto.expanded for element in expanders(app, " · checks: ").values())


# --- tables -----------------------------------------------------------------------------------


def test_tables_marks_a_table_whose_last_build_was_rejected(open_page, checked) -> None:
    app = open_page("tables", table="team_report")
    assert_clean(app)
    (mark,) = [w.value for w in app.warning if "Last build rejected" in w.value]
    assert f"21 rows kept in `{REJECTED}`" in mark
    assert "published table is unchanged" in mark
    assert f"Refused in run {checked.failed_run}" in mark
    assert "`row_count(min=50)`: 1 failing row;" in mark
    assert "`not_null(team)`: could not run" in mark
    assert f"build of run {checked.ok_run}" in mark


def test_tables_shows_the_rows_of_the_rejected_build(open_page, checked) -> None:
    app = open_page("tables", table="team_report")
    (rejected,) = expanders(app)[f"Rows of the rejected build ({REJECTED})"].dataframe
    rows = getattr(rejected.value, "data", rejected.value)
    assert len(rows) == 21 and "Juventus" in set(rows["team"])


def test_tables_lists_the_rejected_mark_but_never_the_rejected_table(open_page, checked) -> None:
    app = open_page("tables", table="team_report")
    catalogue = next(frame for frame in frames(app) if "framework" in frame).set_index("name")
    assert catalogue.at["team_report", "last build"] == "⚠ last build rejected"
    assert catalogue.at["team_names", "last build"] == ""
    assert REJECTED not in catalogue.index
    assert f"{NEVER_PUBLISHED}__rejected" not in catalogue.index


def test_tables_a_table_whose_checks_passed_has_no_mark(open_page) -> None:
    app = open_page("tables", table="team_names")
    assert not [w.value for w in app.warning if "Last build rejected" in w.value]


def test_tables_names_a_first_build_that_was_rejected(open_page) -> None:
    app = open_page("tables", table="team_names")
    assert f"{NEVER_PUBLISHED} (in {NEVER_PUBLISHED}__rejected)" in texts(app)


def test_overview_counts_the_tables_with_a_rejected_build(open_page) -> None:
    app = open_page("overview")
    assert_clean(app)
    shown = texts(app)
    assert "2 tables with a last build rejected by their checks" in shown
    assert f"{NEVER_PUBLISHED}, team_report." in shown


# --- a real browser ---------------------------------------------------------------------------


@pytest.fixture
def server(checked: Checked, tmp_path: Path) -> Iterator[str]:
    """``<package> dashboard --port N`` on the checked project; yields its base URL."""
    _require_browser()
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": checked.database_url,
        "PIPELINE_SETTINGS": str(checked.root / "settings.yml"),
        "PYTHONPATH": str(SRC),
    }
    log_path = tmp_path / "streamlit.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", PACKAGE, "dashboard", "--port", str(port)],
            cwd=checked.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_healthy(f"http://127.0.0.1:{port}", process, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=15)


def _visit(page, url: str, shot: Path, wanted: list[str], scroll_to: str | None = None) -> None:
    """Open ``url``, wait for ``wanted``, scroll ``scroll_to`` into view and save a screenshot
    (on failure too: it shows what went wrong)."""
    page.goto(url)
    try:
        _expect(page, *wanted)
        if scroll_to:
            page.get_by_text(scroll_to).first.evaluate("node => node.scrollIntoView()")
        _settle(page)
        assert page.get_by_test_id("stException").count() == 0, f"traceback on {url}"
        assert page.get_by_text("Page not found").count() == 0, f"no page at {url}"
    finally:
        page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


@pytest.mark.browser
@pytest.mark.slow
def test_checks_and_the_rejected_mark_in_a_real_browser(server, checked, artifacts) -> None:
    backend = "sqlite" if checked.database_url.startswith("sqlite") else "mysql"
    run = f"{server}/run-detail?run={checked.failed_run}"
    with browser_page() as page:
        _visit(page, run, artifacts / f"dashboard-{backend}-run-headline.png", ["Checks failed"])
        assert page.evaluate(_CUT_LABELS) == [], "a metric card is cut at 1280 px"
        _visit(
            page,
            run,
            artifacts / f"dashboard-{backend}-run-checks.png",
            [
                "Data checks (2 failed, 1 warned)",
                "team_report · checks: 2 of 4 failed",
                "could not run",
            ],
            scroll_to="Data checks (2 failed",
        )
        _visit(
            page,
            f"{server}/tables?table=team_report",
            artifacts / f"dashboard-{backend}-tables-rejected.png",
            ["Last build rejected by its checks", "21 rows kept in", "Rows of the rejected build"],
        )
        _visit(
            page,
            server,  # the Overview is the home page
            artifacts / f"dashboard-{backend}-overview-rejected.png",
            ["2 tables with a last build rejected"],
        )
