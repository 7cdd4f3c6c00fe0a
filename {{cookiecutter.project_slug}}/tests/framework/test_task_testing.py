"""The task-testing plugin: ``run_task`` runs a task's real code on given rows (with its checks),
on every backend, and a wrong expectation fails with the task, its given tables and a row diff
naming the differing key and column."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml
from engine_support import write_models
from mysql_support import BACKENDS, server_url

from {{ cookiecutter.package_name }}.errors import DatabaseSetupError
from {{ cookiecutter.package_name }}.testing import TaskTestError, diff_rows, pipeline_database, run_task
from {{ cookiecutter.package_name }}.testing.cases import CaseFileError, read_cases

SALES = """
    from sqlalchemy import func

    from {{ cookiecutter.package_name }}.core.task import Task
    from {{ cookiecutter.package_name }}.sql.checks import unique


    @Task(checks=[unique("region")])
    def region_revenue(session):
        orders = session.table("orders")
        customers = session.table("customers")
        joined = orders.join(customers, orders.customer_id == customers.id)
        big = joined.where(joined.amount >= 10)
        return big.group_by(big.region, agg={"amount": (func.sum, "revenue")})


    @Task
    def customer_days(session):
        orders = session.table("orders")
        return orders.group_by(orders.customer_id, orders.day, agg={"id": (func.count, "n")})
"""
ORDERS = [
    {"id": 1, "customer_id": 1, "amount": 25.0, "day": date(2024, 3, 1)},
    {"id": 2, "customer_id": 1, "amount": 5.0, "day": date(2024, 3, 1)},
    {"id": 3, "customer_id": 2, "amount": 30.0, "day": date(2024, 3, 2)},
    {"id": 4, "customer_id": 3, "amount": 12.5, "day": date(2024, 3, 2)},
]
CUSTOMERS = pd.DataFrame({"id": [1, 2, 3], "region": ["north", "south", "north"]})
PROJECT_ROOT = Path(__file__).resolve().parents[2]
REVENUE = [{"region": "north", "revenue": 37.5}, {"region": "south", "revenue": 30.0}]


@pytest.fixture
def pipeline_project(project: Path) -> Path:
    """The plugin's fixtures test the sales models of a fresh test project."""
    write_models(project, SALES)
    return project


@pytest.fixture(params=BACKENDS)
def backend_db(request: pytest.FixtureRequest, pipeline_project: Path, tmp_path: Path):
    server = None if request.param == "sqlite" else server_url(request.param)
    with pipeline_database(pipeline_project, tmp_path / "db", server=server) as db:
        yield db


def test_a_task_that_joins_filters_and_groups_runs_on_given_rows(backend_db):
    result = run_task(
        backend_db, "region_revenue", given={"orders": ORDERS, "customers": CUSTOMERS}
    )

    assert result.ok and result.table == "region_revenue"
    assert sorted((r["region"], float(r["revenue"])) for r in result.rows) == [
        ("north", 37.5),
        ("south", 30.0),
    ]
    result.expect_rows(REVENUE)
    assert [(c.name, c.status) for c in result.checks] == [("unique(region)", "pass")]


def test_the_fixtures_run_a_task_in_a_migrated_throwaway_database(run_task, pipeline_db, session):
    result = run_task("customer_days", given={"orders": ORDERS})

    result.expect_rows(
        [
            {"customer_id": 1, "day": date(2024, 3, 1), "n": 2},
            {"customer_id": 2, "day": date(2024, 3, 2), "n": 1},
            {"customer_id": 3, "day": date(2024, 3, 2), "n": 1},
        ]
    )
    assert session.table("customer_days").count() == 3
    assert pipeline_db.engine.url.database.startswith(str(pipeline_db.workdir))
    assert session.table("pipeline_runs").count() == 1  # the run ledger: migrated to head


def test_a_failing_check_fails_the_task_inside_run_task(run_task):
    customers = pd.DataFrame({"id": [1, 2, 3], "region": ["north", "north", "north"]})
    customers.loc[1, "region"] = "south"
    orders = [{**row, "customer_id": 1} for row in ORDERS]  # one region only: still unique
    assert run_task("region_revenue", given={"orders": orders, "customers": customers}).ok

    config = {"checks": [{"row_count": {"min": 2}}]}
    result = run_task(
        "region_revenue", given={"orders": orders, "customers": customers}, config=config
    )

    assert not result.ok
    assert result.check("row_count(min=2)").status == "fail"
    with pytest.raises(TaskTestError, match=r"1 check failed \(row_count\(min=2\)"):
        result.expect_rows([{"region": "north", "revenue": 42.5}])


def test_a_wrong_expectation_names_the_differing_key_and_column(run_task):
    result = run_task("region_revenue", given={"orders": ORDERS, "customers": CUSTOMERS})

    with pytest.raises(TaskTestError) as failure:
        result.expect_rows([{"region": "north", "revenue": 99}, {"region": "south", "revenue": 30}])

    message = str(failure.value)
    assert message.startswith("task region_revenue: its table region_revenue differs")
    assert "changed: key (region='north'): revenue expected 99, got 37.5" in message
    assert "given orders:\n  id=1, customer_id=1, amount=25.0, day=2024-03-01" in message
    assert "given customers:\n  id=1, region='north'" in message


def test_a_task_reads_only_the_given_tables(run_task):
    result = run_task("region_revenue", given={"orders": ORDERS})

    assert not result.ok
    assert "customers" in result.error
    with pytest.raises(TaskTestError, match="the task ended failed"):
        result.expect_rows(REVENUE)


def test_a_server_that_refuses_is_told_in_one_paragraph_without_the_password(project, tmp_path):
    server = "mysql+pymysql://pipeline:s3cret-word@127.0.0.1:9/"  # nothing listens on port 9

    with pytest.raises(DatabaseSetupError) as failure:
        with pipeline_database(project, tmp_path / "db", server=server):
            pass

    assert failure.value.exit_code == 2
    assert "127.0.0.1" in str(failure.value) and "s3cret-word" not in str(failure.value)


def test_an_unknown_task_is_named_with_the_closest_one(run_task):
    with pytest.raises(TaskTestError, match="no task is named 'region_revenu'; did you mean"):
        run_task("region_revenue"[:-1])


def test_rows_compare_in_any_order_on_the_expected_columns_only():
    actual = [{"day": "2024-03-01", "n": 2, "x": "ignored"}, {"day": "2024-03-02", "n": 1.0}]

    assert not diff_rows(
        actual, [{"day": date(2024, 3, 2), "n": 1}, {"day": date(2024, 3, 1), "n": 2}]
    )
    diff = diff_rows(actual, [{"day": date(2024, 3, 1), "n": 2}, {"day": date(2024, 3, 3), "n": 1}])
    assert str(diff) == "missing: day=2024-03-03, n=1\nextra:   day='2024-03-02', n=1.0"
    assert str(diff_rows(actual, [{"days": 1}])).startswith("the output has no column 'days'")


CASES = """
    - task: region_revenue
      name: sums big orders by region
      given:
        orders:
          - {id: 1, customer_id: 1, amount: 25.0}
          - {id: 3, customer_id: 2, amount: 30.0}
        customers:
          - {id: 1, region: north}
          - {id: 2, region: south}
      expect:
        - {region: north, revenue: 25.0}
        - {region: south, revenue: 31.0}
      checks:
        unique(region): pass
"""


def pytest_in(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``pytest tests`` in the project at ``root``, its tests seeing the plugin, as a user runs it."""
    tests = root / "tests"
    tests.mkdir(exist_ok=True)
    (tests / "conftest.py").write_text('pytest_plugins = ["{{ cookiecutter.package_name }}.testing.plugin"]\n')
    (tests / "test_sales.yml").write_text(textwrap.dedent(CASES))
    unset = ("PIPELINE_SETTINGS", "DATABASE_URL", "MYSQL_URL", "POSTGRES_URL")
    environ = {k: v for k, v in os.environ.items() if k not in unset} | env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )


def test_a_case_file_is_a_test_that_prints_the_task_given_tables_and_diff(pipeline_project):
    run = pytest_in(pipeline_project)

    assert run.returncode == 1, run.stdout + run.stderr
    assert "test_sales.yml:2: task region_revenue: its table region_revenue differs" in run.stdout
    assert "changed: key (region='south'): revenue expected 31.0, got 30.0" in run.stdout
    assert "given customers:\n  id=1, region='north'\n  id=2, region='south'" in run.stdout
    assert "Traceback" not in run.stdout and "testing/run.py" not in run.stdout
    assert "1 failed" in run.stdout


def test_a_test_server_that_is_down_fails_the_test_with_one_paragraph(pipeline_project):
    settings = pipeline_project / "settings.yml"
    data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    data["connection"] = {"url": "mysql+pymysql://pipeline@127.0.0.1:3306/sales"}  # a MySQL project
    settings.write_text(yaml.safe_dump(data), encoding="utf-8")

    run = pytest_in(pipeline_project, MYSQL_URL="mysql+pymysql://pipeline:s3cret@127.0.0.1:9/")

    assert run.returncode == 1, run.stdout + run.stderr
    assert "the test database, on the MYSQL_URL / POSTGRES_URL server: The database server" in (
        run.stdout
    )
    assert "Traceback" not in run.stdout and "During handling" not in run.stdout
    assert "s3cret" not in run.stdout


def test_a_malformed_case_names_its_file_line_and_key(tmp_path):
    path = tmp_path / "test_bad.yml"
    path.write_text("- task: a\n  expect: null\n- task: b\n  expected: []\n")

    with pytest.raises(CaseFileError) as failure:
        read_cases(path)

    assert str(failure.value).startswith(f"{path}:3: ")
    assert "expect: Field required" in str(failure.value)
    assert "expected: Extra inputs are not permitted" in str(failure.value)


def test_the_readmes_case_passes_on_the_example(tmp_path):
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Testing your tasks") : readme.index("## Tests and checks")]
    path = tmp_path / "test_readme.yml"
    path.write_text(re.search(r"```yaml\n(.*?)```", section, re.S).group(1), encoding="utf-8")
    (case,) = read_cases(path)

    with pipeline_database(PROJECT_ROOT, tmp_path / "db") as db:
        result = run_task(db, case.task, case.given, case.config)

    result.expect_rows(case.expect, case.key)
    assert result.check("unique(preds)").status == case.checks["unique(preds)"] == "pass"
