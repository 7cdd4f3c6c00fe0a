"""Failures that lead somewhere: the run summary names each failed task's file:line and error
and points at ``show-run <id>`` (whose ``--traceback`` prints the whole traceback); a returned
value nothing stores is warned about."""

from __future__ import annotations

import json
import re

import pytest
from engine_support import cli, migrated, run_rows, task_rows, write_models

from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]

FAILING = """
    import json

    from {{ cookiecutter.package_name }}.core.task import Task

    @Task()
    def extract():
        pass

    @Task(depends_on=[extract])
    def parse():
        return json.loads("{not json")

    @Task(depends_on=[extract])
    def check():
        raise ValueError("3 rows have no id\\nfirst at line 12\\nfix the file and run again")

    @Task(depends_on=[parse])
    def report():
        pass
"""


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def failed_run(migrated: Settings) -> tuple[Settings, str, str]:
    """A run of FAILING through the CLI: (settings, its run id, what it printed)."""
    write_models(migrated.root, FAILING)
    done = cli(migrated, "run")
    assert done.returncode == 1, done.stderr
    (run,) = run_rows(migrated)
    return migrated, run.id, done.stderr


def test_a_failed_run_summary_names_each_failed_task_with_its_file_and_line(failed_run) -> None:
    _, _, err = failed_run
    summary = err[err.index("failed tasks:") :]
    assert re.search(
        r"parse \(models/pipeline\.py:12\): JSONDecodeError: Expecting property name", summary
    ), err
    assert "check (models/pipeline.py:16): ValueError: 3 rows have no id" in summary, err
    assert "json/decoder.py" not in summary  # the innermost frame in models/, not the library's


def test_a_failed_run_summary_shows_the_errors_first_and_last_lines(failed_run) -> None:
    _, _, err = failed_run
    summary = err[err.index("failed tasks:") :]
    assert "ValueError: 3 rows have no id" in summary
    assert "... fix the file and run again" in summary, err
    assert "report" not in summary.split("details:")[0]  # upstream_failed is only counted


def test_a_failed_run_summary_points_at_show_run_with_the_run_id(failed_run) -> None:
    _, run_id, err = failed_run
    assert f"show-run {run_id}" in err, err
    assert "--traceback" in err


def test_show_run_traceback_prints_each_failed_attempts_whole_traceback(failed_run) -> None:
    settings, run_id, _ = failed_run
    done = cli(settings, "show-run", run_id, "--traceback")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("Traceback (most recent call last):") == 2, out
    assert re.search(r'File "[^"]*models/pipeline\.py", line 12, in parse', out), out
    assert 'return json.loads("{not json")' in out
    assert "fix the file and run again" in out
    assert re.search(r"parse, attempt 1 \(failed\) at models/pipeline\.py:12", one_line(out))


def test_show_run_without_traceback_gives_the_location_and_the_way_to_the_traceback(
    failed_run,
) -> None:
    settings, run_id, _ = failed_run
    done = cli(settings, "show-run", run_id)
    assert done.returncode == 0, done.stderr
    assert "(models/pipeline.py:16)" in one_line(done.stdout), done.stdout
    assert f"show-run {run_id} --traceback" in one_line(done.stdout)
    assert "Traceback (most recent call last)" not in done.stdout


def test_show_run_json_gives_the_selection_as_a_json_value(failed_run) -> None:
    settings, run_id, _ = failed_run
    done = cli(settings, "show-run", run_id, "--json")
    detail = json.loads(done.stdout)
    assert isinstance(detail["selection"], dict), detail["selection"]
    assert detail["selection"]["tasks"] == ["extract", "check", "parse", "report"]
    parse = next(row for row in detail["tasks"] if row["task"] == "parse")
    assert parse["location"] == "models/pipeline.py:12"


RETURNS = """
    import pandas as pd

    from {{ cookiecutter.package_name }}.core.task import Task

    @Task()
    def frame():
        return pd.DataFrame({"id": [1, 2]})

    @Task()
    def mapping():
        return {"rows": 2}

    @Task()
    def number():
        return 7

    @Task()
    def nothing():
        return None
"""


def test_a_task_returning_a_value_that_is_not_stored_succeeds_with_a_warning(
    migrated: Settings,
) -> None:
    write_models(migrated.root, RETURNS)
    done = cli(migrated, "run")
    assert done.returncode == 0, done.stderr
    err = one_line(done.stderr)
    for name, kind in (
        ("frame", "a pandas.DataFrame"),
        ("mapping", "a dict"),
        ("number", "an int"),
    ):
        warning = f"task {name} returned {kind}, which is not stored"
        assert warning in err, done.stderr
    assert "WARNING" in done.stderr
    assert "task nothing returned" not in err
    assert "task frame: returned a pandas.DataFrame, which is not stored" in err  # the summary
    (run,) = run_rows(migrated)
    assert run.status == "success"
    assert {row.task: row.status for row in task_rows(migrated)}["frame"] == "success"
