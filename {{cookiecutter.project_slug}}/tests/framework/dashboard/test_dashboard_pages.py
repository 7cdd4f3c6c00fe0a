"""Every dashboard page, rendered by Streamlit's AppTest on a database two real runs filled.

The first run (without the failing branch) succeeded; the second failed: ``score_teams`` raised
on both of its attempts and ``publish_scores`` never ran.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from streamlit.testing.v1 import AppTest

TASKS = {"load_predictions", "task_one", "task_two", "task_three", "task_four"}


def texts(app: AppTest) -> str:
    """Every piece of text the page shows, in one string."""
    kinds = ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    parts = [element.value for kind in kinds for element in getattr(app, kind)]
    parts += [f"{metric.label}: {metric.value}" for metric in app.metric]
    parts += [block.value for block in app.code]
    return "\n".join(str(part) for part in parts)


def table(app: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe on the page that has ``column``."""
    for frame in app.dataframe:
        value = frame.value
        data = value.data if hasattr(value, "data") else value  # a Styler keeps its frame
        if column in data.columns:
            return data
    raise AssertionError(f"no table with a {column!r} column; page says:\n{texts(app)}")


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [exc.value for exc in app.exception]
    assert not app.error, [error.value for error in app.error]


def test_overview_counts_the_runs_and_their_success_rate(open_page) -> None:
    app = open_page("overview")
    assert_clean(app)
    shown = texts(app)
    assert "Last 7 days" in shown
    assert "Runs: 2" in shown
    assert "Success rate: 50%" in shown


def test_overview_lists_the_latest_runs_newest_first(open_page, dashboard) -> None:
    app = open_page("overview")
    latest = table(app, "tasks")
    assert list(latest["id"]) == [dashboard.failed_run, dashboard.ok_run]
    assert list(latest["status"]) == ["failed", "success"]


def test_overview_names_the_failing_tasks_of_the_last_run(open_page, dashboard) -> None:
    app = open_page("overview")
    assert f"Failing tasks of the last run ({dashboard.failed_run})" in texts(app)
    failing = table(app, "error")
    assert dict(zip(failing["task"], failing["status"])) == {
        "score_teams": "failed",
        "publish_scores": "upstream_failed",
    }
    assert "no 'elo' column" in failing.set_index("task").at["score_teams", "error"]


def test_runs_lists_every_run_with_its_task_counts(open_page, dashboard) -> None:
    app = open_page("runs")
    assert_clean(app)
    runs = table(app, "run").set_index("run")
    assert runs.at[dashboard.failed_run, "status"] == "failed"
    assert runs.at[dashboard.failed_run, "failed"] == 2  # score_teams + publish_scores
    assert runs.at[dashboard.ok_run, "status"] == "success"
    assert runs.at[dashboard.ok_run, "failed"] == 0
    assert "Rows 1–2 of 2" in texts(app)


def test_runs_filter_by_status_keeps_only_matching_runs(open_page, dashboard) -> None:
    app = open_page("runs")
    app.multiselect(key="runs_status").set_value(["success"]).run()
    assert list(table(app, "run")["run"]) == [dashboard.ok_run]


def test_runs_filter_by_task_keeps_the_runs_that_ran_it(open_page, dashboard) -> None:
    app = open_page("runs")
    app.selectbox(key="runs_task").set_value("score_teams").run()
    assert list(table(app, "run")["run"]) == [dashboard.failed_run]


def test_runs_filter_with_no_match_says_so(open_page) -> None:
    app = open_page("runs")
    long_ago = date.today() - timedelta(days=3 * 365)
    app.date_input(key="runs_dates").set_value((long_ago, long_ago + timedelta(days=30))).run()
    assert "No run matches these filters" in texts(app)


def test_run_detail_shows_each_task_final_status_and_attempts(open_page, dashboard) -> None:
    app = open_page("run-detail", run=dashboard.failed_run)
    assert_clean(app)
    assert f"Run {dashboard.failed_run}" in texts(app)
    tasks = table(app, "attempts").set_index("task")
    assert tasks.at["score_teams", "status"] == "failed"
    assert tasks.at["score_teams", "attempts"] == 2
    assert tasks.at["publish_scores", "status"] == "upstream_failed"
    assert tasks.at["task_one", "status"] == "skipped"  # cached: the first run built it


def test_run_detail_shows_the_traceback_of_each_failed_attempt(open_page, dashboard) -> None:
    app = open_page("run-detail", run=dashboard.failed_run)
    tracebacks = [block.value for block in app.code if "Traceback" in block.value]
    assert len(tracebacks) == 2  # both attempts of score_teams
    assert all("no 'elo' column to score teams with" in tb for tb in tracebacks)


def test_run_detail_shows_the_data_check_results(open_page, dashboard) -> None:
    app = open_page("run-detail", run=dashboard.ok_run)
    checks = table(app, "severity")
    outcome = dict(zip(checks["severity"], checks["result"]))
    listed = [e.label for e in app.expander if " · checks: " in e.label]
    assert len(listed) == 1 and "checked_predictions · checks: " in listed[0]
    assert outcome["warn"] != "pass"  # 'd' (draw) is not an accepted value
    assert outcome["error"] == "pass"  # row_count(min=1)


def test_run_detail_colours_the_dag_by_the_run_statuses(open_page, dashboard) -> None:
    app = open_page("run-detail", run=dashboard.failed_run)
    (chart,) = app.get("graphviz_chart")
    dot = chart.proto.spec
    assert "score_teams" in dot and "publish_scores" in dot
    assert "(failed)" in dot and "(upstream_failed)" in dot


def test_run_detail_draws_a_timeline_of_the_attempts(open_page, dashboard) -> None:
    app = open_page("run-detail", run=dashboard.failed_run)
    charts = app.get("vega_lite_chart")
    assert charts, "no timeline chart"
    assert "score_teams" in str(charts[0].proto)


def test_run_detail_without_a_run_in_the_url_opens_the_newest(open_page, dashboard) -> None:
    app = open_page("run-detail")
    assert f"Run {dashboard.failed_run}" in texts(app)


def test_run_detail_of_an_unknown_run_says_so(open_page) -> None:
    app = open_page("run-detail", run="no-such-run")
    assert_clean(app)
    assert "There is no run 'no-such-run'" in texts(app)


def test_dag_lists_every_task_with_its_last_status_and_schedule(open_page) -> None:
    app = open_page("dag")
    assert_clean(app)
    tasks = table(app, "last status").set_index("task")
    assert TASKS | {"score_teams", "publish_scores"} <= set(tasks.index)
    assert tasks.at["score_teams", "last status"] == "failed"
    assert tasks.at["publish_scores", "last status"] == "upstream_failed"
    assert tasks.at["task_four", "schedule"].startswith("monthly")
    assert tasks.at["publish_scores", "upstream"] == "score_teams"


def test_dag_focus_upstream_keeps_only_the_ancestors(open_page) -> None:
    app = open_page("dag")
    app.selectbox(key="dag_focus").set_value("score_teams").run()
    app.segmented_control(key="dag_direction").set_value("upstream").run()
    tasks = set(table(app, "last status")["task"])
    assert tasks == {"score_teams", "task_two", "task_one", "load_predictions"}


def test_tables_lists_outputs_first_with_their_row_counts(open_page, dashboard) -> None:
    app = open_page("tables")
    assert_clean(app)
    catalogue = table(app, "framework").set_index("name")
    seed_rows = len(pd.read_csv(dashboard.root / "seeds" / "predictions.csv"))
    assert catalogue.at["predictions", "rows"] == seed_rows
    assert not catalogue.at["task_two", "framework"]
    assert catalogue.at["pipeline_runs", "rows"] == 2
    assert catalogue.at["pipeline_runs", "framework"]
    outputs_first = list(catalogue["framework"])
    assert outputs_first == sorted(outputs_first)


def test_tables_previews_one_page_of_rows(open_page, dashboard) -> None:
    app = open_page("tables", table="predictions")
    total = len(pd.read_csv(dashboard.root / "seeds" / "predictions.csv"))
    preview = table(app, "preds")
    assert len(preview) == min(50, total)
    assert f"Rows 1–{min(50, total)} of {total:,}" in texts(app)
    assert app.get("download_button"), "no CSV download of the previewed page"


def test_tables_profile_counts_nulls_and_distinct_values_in_sql(open_page, dashboard) -> None:
    app = open_page("tables", table="predictions")
    app.segmented_control(key="table_view").set_value("Profile").run()
    profile = table(app, "distinct").set_index("column")
    seeds = pd.read_csv(dashboard.root / "seeds" / "predictions.csv")
    assert profile.at["preds", "distinct"] == seeds["preds"].nunique()
    assert profile.at["preds", "nulls"] == 0
    assert profile.at["preds", "min"] == min(seeds["preds"])


def test_ingest_shows_each_object_with_rows_read_loaded_rejected(open_page) -> None:
    app = open_page("ingest")
    assert_clean(app)
    objects = table(app, "transform")
    ratings = objects[objects["source_uri"].str.endswith("ratings.csv")].iloc[0]
    assert (ratings["rows_read"], ratings["rows_loaded"], ratings["rows_rejected"]) == (3, 2, 1)
    assert (ratings["extract"], ratings["transform"], ratings["load"]) == ("done",) * 3
    totals = {metric.label: metric.value for metric in app.metric}
    assert totals["Data objects"] == str(len(objects))
    assert totals["Rows rejected"] == "1"


def test_ingest_lists_each_rejected_row_with_its_reason(open_page) -> None:
    app = open_page("ingest")
    rejects = table(app, "raw")
    assert list(rejects["field"]) == ["rating"]
    assert "Chelsea" in rejects["raw"].iloc[0]
