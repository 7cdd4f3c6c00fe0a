"""Bad inputs: row problems land in rejects with a reason, file problems fail the object."""

from __future__ import annotations

import pytest
from ingest_support import HEADER, good_rows, objects, rejects, table_rows, trades_model, write
from sqlalchemy import Engine

from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.errors import IngestError
from {{ cookiecutter.package_name }}.ingest import fields
from {{ cookiecutter.package_name }}.ingest.runner import ingest
from {{ cookiecutter.package_name }}.settings import Settings


@pytest.fixture
def migrated(settings: Settings, engine: Engine) -> Engine:
    upgrade(settings)
    return engine


ROW_PROBLEMS = [
    ("malformed_line", "1,1.5,abc,2024-01-02\n", "malformed line: 4 fields where the header has 5"),
    ("too_many_fields", "1,1.5,abc,2024-01-02,3,extra\n", "malformed line: 6 fields"),
    ("wrong_type", "1,cheap,abc,2024-01-02,3\n", "price: 'cheap' is not a number"),
    ("not_whole", "1,1.5,abc,2024-01-02,3.5\n", "qty: '3.5' is not a whole number"),
    (
        "bad_date",
        "1,1.5,abc,2024-02-30,3\n",
        "day: '2024-02-30' is not a date in the format %Y-%m-%d",
    ),
    ("missing_required", ",1.5,abc,2024-01-02,3\n", "id: required value is missing"),
    ("too_long", "1,1.5,abcdefghijk,2024-01-02,3\n", "ticker: 11 characters, more than the 8"),
]


@pytest.mark.parametrize(("case", "bad", "reason"), ROW_PROBLEMS)
def test_a_bad_row_is_rejected_with_its_line_and_reason_and_the_rest_load(
    settings: Settings, migrated: Engine, case: str, bad: str, reason: str
) -> None:
    model = trades_model()
    write(settings.root, f"{case}.csv", HEADER + good_rows(2) + bad + good_rows(2, start=10))
    report = ingest(model, settings=settings)
    [obj] = objects(migrated, model.__model_name__)
    assert (obj.status, obj.rows_read, obj.rows_loaded, obj.rows_rejected) == ("loaded", 5, 4, 1)
    assert obj.rows_read == obj.rows_loaded + obj.rows_rejected
    [reject] = rejects(migrated)
    assert (reject.object_id, reject.record, reject.line) == (obj.id, 3, 4)
    assert reason in reject.reason
    assert reject.raw == bad.rstrip("\n")
    assert len(table_rows(migrated, model.__table__)) == 4
    assert report.rows_affected == 4


def test_every_failing_field_of_a_row_is_named_in_one_reject(
    settings: Settings, migrated: Engine
) -> None:
    model = trades_model()
    write(settings.root, "two_bad.csv", HEADER + "1,cheap,abc,someday,3\n")
    ingest(model, settings=settings)
    [reject] = rejects(migrated)
    assert reject.field == "price"
    assert "price: 'cheap' is not a number" in reject.reason and "day: 'someday'" in reject.reason


def test_an_undecodable_byte_rejects_only_its_row(settings: Settings, migrated: Engine) -> None:
    model = trades_model()
    content = (
        (HEADER + good_rows(1)).encode() + b"2,2.5,ab\xff,2024-01-02,3\n" + good_rows(1, 5).encode()
    )
    write(settings.root, "latin.csv", content)
    ingest(model, settings=settings)
    [obj] = objects(migrated, model.__model_name__)
    assert (obj.rows_read, obj.rows_loaded, obj.rows_rejected) == (3, 2, 1)
    [reject] = rejects(migrated)
    assert reject.line == 3 and "encoding error: byte 0xff" in reject.reason


FILE_PROBLEMS = [
    ("zero_bytes", b"", "is empty (0 bytes)"),
    ("blank", b"\n\n  \n", "has no header row"),
    ("no_required_column", b"id,price,ticker,qty\n1,1.5,abc,3\n", "the header has no column 'day'"),
    ("duplicate_column", b"id,id,price,ticker,day,qty\n", "the header names 'id' more than once"),
]


@pytest.mark.parametrize(("case", "content", "message"), FILE_PROBLEMS)
def test_a_file_problem_fails_the_object_with_one_clear_message(
    settings: Settings, migrated: Engine, case: str, content: bytes, message: str
) -> None:
    model = trades_model()
    path = write(settings.root, f"{case}.csv", content)
    write(settings.root, "fine.csv", HEADER + good_rows(3))
    with pytest.raises(IngestError) as caught:
        ingest(model, settings=settings)
    assert list(caught.value.failures) == [str(path)]
    assert message in caught.value.failures[str(path)]
    assert message in str(caught.value)
    by_uri = {obj.source_uri: obj for obj in objects(migrated, model.__model_name__)}
    failed, fine = by_uri[str(path)], by_uri[str(path.parent / "fine.csv")]
    assert failed.status == "failed" and message in failed.error
    assert (failed.rows_loaded or 0) == 0 and fine.status == "loaded" and fine.rows_loaded == 3
    assert len(table_rows(migrated, model.__table__)) == 3


def test_a_header_only_file_loads_zero_rows(settings: Settings, migrated: Engine) -> None:
    model = trades_model()
    write(settings.root, "header.csv", HEADER)
    report = ingest(model, settings=settings)
    [obj] = objects(migrated, model.__model_name__)
    assert (obj.status, obj.rows_read, obj.rows_loaded, obj.rows_rejected) == ("loaded", 0, 0, 0)
    assert report.rows_affected == 0


def test_a_multiline_quoted_field_is_one_record(settings: Settings, migrated: Engine) -> None:
    model = trades_model(ticker=fields.String(length=20))
    write(
        settings.root, "quoted.csv", HEADER + '1,1.5,"two\nlines",2024-01-02,3\n' + good_rows(1, 2)
    )
    ingest(model, settings=settings)
    rows = table_rows(migrated, model.__table__)
    assert [row[2] for row in rows] == ["two\nlines", "abc2"]
