"""Data checks run in SQL, and the output hook the engine calls after each task."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, func
from sqldata import ORDERS, shared_engine  # noqa: F401 (fixture)

from {{ cookiecutter.package_name }}.errors import SQLLayerError
from {{ cookiecutter.package_name }}.sql.checks import (
    accepted_values,
    checks_from_config,
    not_null,
    relationships,
    row_count,
    unique,
)
from {{ cookiecutter.package_name }}.sql.outputs import handle_output, output_fingerprint
from {{ cookiecutter.package_name }}.sql.session import Session


@pytest.fixture
def session(shared_engine: Engine) -> Session:
    return Session(shared_engine)


def _run(check, session, table="orders"):
    return check.run(session.engine, default_table=table)


def test_unique_passes_on_a_key(session):
    outcome = _run(unique("id"), session)
    assert (outcome.name, outcome.status, outcome.failing_rows, outcome.sample) == (
        "unique(id)",
        "pass",
        0,
        None,
    )


def test_unique_reports_duplicated_values_with_a_sample(session):
    outcome = _run(unique("customer_id"), session)
    duplicated = ORDERS.customer_id.value_counts()
    assert outcome.status == "fail"
    assert outcome.failing_rows == int((duplicated > 1).sum())
    assert {row["customer_id"] for row in json.loads(outcome.sample)} == {1, 2}


def test_unique_over_several_columns(session):
    assert _run(unique("customer_id", "status"), session).failing_rows == 1


def test_not_null_counts_rows_with_a_null(session):
    outcome = _run(not_null("id", "amount"), session)
    assert (outcome.status, outcome.failing_rows) == ("fail", int(ORDERS.amount.isna().sum()))
    assert json.loads(outcome.sample)[0]["id"] == 16


def test_accepted_values(session):
    outcome = _run(accepted_values("status", ["paid", "open"]), session)
    assert (outcome.status, outcome.failing_rows) == ("fail", 1)
    assert json.loads(outcome.sample)[0]["status"] == "void"
    assert _run(accepted_values("status", ["paid", "open", "void"]), session).status == "pass"


def test_row_count_bounds(session):
    assert _run(row_count(min=1), session).status == "pass"
    too_few = _run(row_count(min=100), session)
    assert too_few.status == "fail" and json.loads(too_few.sample)[0]["rows"] == len(ORDERS)
    assert _run(row_count(max=3), session).status == "fail"


def test_relationships_finds_orphans(session):
    outcome = _run(relationships("customer_id", to="customers"), session)
    assert (outcome.status, outcome.failing_rows) == ("fail", 1)
    assert json.loads(outcome.sample)[0]["customer_id"] == 5


def test_warn_severity_only_warns(session):
    outcome = _run(unique("customer_id", severity="warn"), session)
    assert outcome.status == "warn" and not outcome.failed


def test_check_on_a_missing_column_is_an_error_outcome(session):
    outcome = _run(not_null("nope"), session)
    assert (
        outcome.status == "error" and "no column(s) ['nope']" in json.loads(outcome.sample)["error"]
    )


def test_check_on_a_missing_table_is_an_error_outcome(session):
    outcome = _run(unique("id"), session, table="ghost")
    assert outcome.status == "error" and "'ghost' does not exist" in outcome.sample


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: unique(), "needs one or more column names"),
        (lambda: unique("id", severity="fatal"), "severity must be one of"),
        (lambda: accepted_values("x", []), "non-empty list"),
        (lambda: row_count(), "needs min=, max= or both"),
        (lambda: row_count(min=5, max=1), "min is above max"),
    ],
)
def test_bad_check_definitions_are_refused(build, message):
    with pytest.raises(SQLLayerError, match=message):
        build()


def test_checks_from_settings(session):
    checks = checks_from_config(
        [
            {"unique": ["id"]},
            {"not_null": {"columns": ["id"], "severity": "warn"}},
            {"accepted_values": {"column": "status", "values": ["paid", "open", "void"]}},
            {"row_count": {"min": 1}},
        ]
    )
    assert [c.name for c in checks] == [
        "unique(id)",
        "not_null(id)",
        "accepted_values(status, ['paid', 'open', 'void'])",
        "row_count(min=1)",
    ]
    assert all(_run(c, session).status == "pass" for c in checks)


def test_unknown_check_in_settings_is_refused():
    with pytest.raises(SQLLayerError, match=r"checks\[0\]: unknown check 'uniq'"):
        checks_from_config([{"uniq": ["id"]}])


def test_handle_output_materializes_a_returned_dataframe(session):
    orders = session.table("orders")
    result = handle_output(
        orders.where(orders.status == "paid"),
        task_name="paid_orders",
        task_config={},
        checks=[unique("id"), row_count(min=1)],
        session=session,
    )
    assert result.rows_affected == 3 and not result.failed
    assert [c.status for c in result.checks] == ["pass", "pass"]
    assert session.table("paid_orders").count() == 3


def test_handle_output_honours_materialize_view(session):
    from sqlalchemy import inspect

    orders = session.table("orders")
    handle_output(
        orders,
        task_name="v_orders",
        task_config={"materialize": "view"},
        checks=[],
        session=session,
    )
    assert "v_orders" in inspect(session.engine).get_view_names()


def test_handle_output_fails_on_an_error_check(session):
    result = handle_output(
        session.table("orders"),
        task_name="o2",
        task_config={"checks": [{"unique": "customer_id"}]},
        checks=[],
        session=session,
    )
    assert result.failed and result.checks[0].status == "fail"


def test_a_task_freshness_check_reads_the_build_before_it_is_published(session):
    result = handle_output(
        session.table("orders"),
        task_name="orders_fresh",
        task_config={"checks": [{"freshness": {"column": "day", "error_after": "1d"}}]},
        checks=[],
        session=session,
    )
    (outcome,) = result.checks
    assert (outcome.status, result.failed) == ("fail", True)  # its newest day is 2022-12-31
    assert json.loads(outcome.sample)[0]["newest"].startswith("2022-12-31")


def test_handle_output_without_a_dataframe_checks_a_named_table(session):
    result = handle_output(
        None, task_name="t", task_config={}, checks=[unique("id", table="orders")], session=session
    )
    assert result.rows_affected is None and result.checks[0].status == "pass" and not result.failed


def test_handle_output_of_nothing_is_empty(session):
    result = handle_output(None, task_name="t", task_config={}, checks=[], session=session)
    assert (result.rows_affected, result.checks, result.failed) == (None, [], False)


def test_output_fingerprint_is_the_compiled_sql(session):
    orders = session.table("orders")
    df = orders.group_by("status", agg={"amount": (func.sum, "total")})
    assert output_fingerprint(df) == df.sql()
    assert output_fingerprint(df) == output_fingerprint(
        session.table("orders").group_by("status", agg={"amount": (func.sum, "total")})
    )
    assert output_fingerprint(None) is None and output_fingerprint(3) is None
