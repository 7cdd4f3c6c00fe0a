"""A field over the csv module's size limit: only its row is refused (into the rejects, with
its line), the rows around it load, and the long line is never held in memory whole."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from ingest_support import HEADER, good_rows, objects, rejects, table_rows, trades_model, write
from sqlalchemy import Engine
from test_ingest_csv_reading import read_all, read_with_csv_module_only

from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.ingest import fields
from {{ cookiecutter.package_name }}.ingest.runner import ingest
from {{ cookiecutter.package_name }}.settings import Settings

LIMIT = csv.field_size_limit()
REASON = f"a field is over the csv size limit ({LIMIT} characters)"


@pytest.fixture
def migrated(settings: Settings, engine: Engine) -> Engine:
    upgrade(settings)
    return engine


def loaded_with_one_reject(settings: Settings, engine: Engine, content: str, line: int) -> str:
    """Ingest ``content``; every row but the one on ``line`` loads; that row's reject reason."""
    model = trades_model()
    write(settings.root, "long.csv", content)
    ingest(model, settings=settings)
    [obj] = objects(engine, model.__model_name__)
    assert (obj.status, obj.rows_read, obj.rows_loaded, obj.rows_rejected) == ("loaded", 5, 4, 1)
    assert [row[0] for row in table_rows(engine, model.__table__)] == [1, 2, 10, 11]
    [reject] = rejects(engine)
    assert (reject.record, reject.line) == (3, line)
    return reject.reason


@pytest.mark.parametrize("size", [LIMIT + 1, 3 * LIMIT, 20 << 20])
def test_a_field_over_the_size_limit_rejects_only_its_row(
    settings: Settings, migrated: Engine, size: int
) -> None:
    bad = f"3,1.5,{'x' * size},2024-01-02,3\n"
    content = HEADER + good_rows(2) + bad + good_rows(2, start=10)
    assert loaded_with_one_reject(settings, migrated, content, 4) == REASON


def test_an_over_long_quoted_field_across_lines_rejects_only_its_row(
    settings: Settings, migrated: Engine
) -> None:
    bad = f'3,1.5,"{"x" * (2 * LIMIT)}\nmore, still ""quoted""",2024-01-02,3\n'
    content = HEADER + good_rows(2) + bad + good_rows(2, start=10)
    assert loaded_with_one_reject(settings, migrated, content, 4) == REASON


def test_a_long_line_whose_fields_are_each_under_the_limit_is_not_cut_out(
    settings: Settings, migrated: Engine
) -> None:
    # the line is over the limit but no field is: the field's own length check refuses it
    model = trades_model(note=fields.String(), memo=fields.String())
    half = "y" * (LIMIT - 10)
    rows = "".join(f"{i},1.5,abc,2024-01-02,3,n,m\n" for i in (1, 2))
    content = (
        HEADER.rstrip("\n") + ",note,memo\n" + rows + f"3,1.5,abc,2024-01-02,3,{half},{half}\n"
    )
    write(settings.root, "wide.csv", content)
    ingest(model, settings=settings)
    [reject] = rejects(migrated)
    assert reject.line == 4 and "note:" in reject.reason and REASON not in reject.reason


@hypothesis_settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(
        st.sampled_from(["1", "x" * 9, "y" * 30, ",", '"', '""', "\n", "\r\n", "é" * 12]),
        max_size=30,
    ),
    size=st.integers(min_value=1, max_value=4),
)
def test_with_a_small_limit_long_fields_are_refused_alike_on_both_reading_paths(
    tmp_path: Path, body: list[str], size: int
) -> None:
    path = tmp_path / "small_limit.csv"
    path.write_text("a,b,c\n" + "".join(body), encoding="utf-8", newline="")
    # A limit of 8 characters makes short text exercise the long-line cut-outs; lines as
    # read, whichever path reads them, must then give the same records.
    previous = csv.field_size_limit(8)
    try:
        rows = read_all(path, size)
        assert rows == read_with_csv_module_only(path, size)
    finally:
        csv.field_size_limit(previous)
    for row in rows:
        if row[0] != "problem" and isinstance(row[2], tuple):
            assert all(len(value) <= 8 for value in row[2] if value is not None), row
