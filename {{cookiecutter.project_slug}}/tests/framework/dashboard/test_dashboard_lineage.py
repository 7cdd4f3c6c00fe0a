"""The DAG page shows tables beside tasks: what each task's last run read and wrote."""

from __future__ import annotations

from test_dashboard_pages import assert_clean, table


def graph(app) -> str:
    (chart,) = app.get("graphviz_chart")
    return chart.proto.spec


def test_dag_draws_each_table_beside_the_tasks_that_read_and_wrote_it(open_page) -> None:
    app = open_page("dag")
    assert_clean(app)
    dot = graph(app)
    assert '"table:predictions" [label="predictions", shape=cylinder' in dot
    assert '"load_predictions" -> "table:predictions";' in dot  # the ingest wrote it
    assert '"table:predictions" -> "task_two" [style=dashed];' in dot  # task_two read it
    assert '"task_two" -> "table:task_two";' in dot
    assert '"team_ratings" -> "table:team_ratings";' in dot


def test_dag_tasks_table_lists_the_tables_read_and_written(open_page) -> None:
    app = open_page("dag")
    tasks = table(app, "reads").set_index("task")
    assert tasks.at["task_two", "reads"] == "predictions"
    assert tasks.at["task_two", "writes"] == "task_two"
    assert tasks.at["checked_predictions", "writes"] == "checked_predictions"
    assert tasks.at["score_teams", "reads"] == ""  # it failed before reading anything


def test_dag_tables_can_be_hidden(open_page) -> None:
    app = open_page("dag")
    app.toggle(key="dag_tables").set_value(False).run()
    assert "cylinder" not in graph(app)
    assert '"task_one" -> "task_two";' in graph(app)
