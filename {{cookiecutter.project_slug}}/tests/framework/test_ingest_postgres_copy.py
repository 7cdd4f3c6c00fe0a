"""PostgreSQL's COPY loader writes what the INSERT loader writes, value for value.

The same chunks go through both paths of the ingest's loader (``Loader`` with COPY, and with
``bulk=False``: plain INSERTs) into twin tables of a fresh PostgreSQL database; the rows read
back must be identical: dates, decimals, NULLs, long strings, unicode, quotes, tabs, newlines
and backslashes in fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal

import pytest
from mysql_support import fresh_database
from sqlalchemy import Engine, text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields
from {{ cookiecutter.package_name }}.ingest.batches import ObjectProblem
from {{ cookiecutter.package_name }}.ingest.field_base import TextBacked
from {{ cookiecutter.package_name }}.ingest.load import Loader, ensure_target, target_table

pytestmark = pytest.mark.postgresql

OBJECT_ID = "0123456789abcdef0123456789abcdef"
NOTES = [
    "plain",
    "tab\there",
    "new\nline",
    "crlf\r\nend",
    "quotes \"double\" and 'single', comma, semicolon; pipe |",
    "back\\slash \\N \\t \\\\",
    "\\.",
    "unicode: żółć ελληνικά 日本語 🎉",
    "x" * 4000 + "é",
    "",
    " leading and trailing ",
    None,
]
AMOUNTS = [
    Decimal("0.000001"),
    Decimal("-123456789012.345678"),
    Decimal("1E+3"),
    Decimal("0"),
    Decimal("42.10"),
    None,
]
SCORES = [0.1, -1e-300, 1.7976931348623157e308, 123456.789, -0.0, None]
BIGS = [2**63 - 1, -(2**63), 0, None]
DAYS = [dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2024, 2, 29), None]
MOMENTS = [dt.datetime(2024, 1, 1, 12, 30, 45, 123456), dt.datetime(1970, 1, 1), None]
FLAGS = [True, False, None]


class Every(IngestModel):
    __table__ = "every"
    __source__ = CsvSource("inbox/*.csv")
    id = fields.Integer(required=True)
    big = fields.Integer(big=True)
    score = fields.Float()
    amount = fields.Decimal(precision=18, scale=6)
    note = fields.String(length=5000)
    day = fields.Date()
    moment = fields.DateTime()
    flag = fields.Boolean()


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    with fresh_database("postgresql") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def chunk(start: int, count: int) -> list[list[object]]:
    """``count`` rows from id ``start`` as columns in field order, cycling through the cases."""
    ids = range(start, start + count)

    def cycle(values: Sequence[object]) -> list[object]:
        return [values[i % len(values)] for i in ids]

    return [
        list(ids),
        cycle(BIGS),
        cycle(SCORES),
        cycle(AMOUNTS),
        cycle(NOTES),
        cycle(DAYS),
        cycle(MOMENTS),
        cycle(FLAGS),
    ]


def load(engine: Engine, table: str, chunks: list[list[Sequence[object]]], bulk: bool) -> None:
    target = target_table(table, Every.__fields__)
    ensure_target(engine, target)
    with engine.begin() as conn:
        with Loader(conn, target, Every.__fields__, OBJECT_ID, bulk=bulk) as loader:
            for columns in chunks:
                assert loader.insert(columns) == len(columns[0])


def rows(engine: Engine, table: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))]


def both_paths(engine: Engine, chunks: list[list[Sequence[object]]]) -> list[tuple[object, ...]]:
    """Load ``chunks`` by COPY and by INSERT; the rows, once checked identical."""
    load(engine, "by_copy", chunks, bulk=True)
    load(engine, "by_insert", chunks, bulk=False)
    copied, inserted = rows(engine, "by_copy"), rows(engine, "by_insert")
    assert copied == inserted
    return copied


def test_copy_writes_typed_values_exactly_as_the_insert_path_does(pg_engine: Engine) -> None:
    chunks = [chunk(1, 50), chunk(51, 50), chunk(101, 7)]
    got = both_paths(pg_engine, chunks)
    assert len(got) == 107
    by_id = {row[0]: row for row in got}
    assert [by_id[i][4] for i in range(1, 13)] == NOTES[1:] + NOTES[:1]
    assert by_id[2][1:4] == (0, 1.7976931348623157e308, Decimal("1000.000000"))
    assert by_id[3][1:4] == (None, 123456.789, Decimal("0.000000"))
    assert by_id[4][1:4] == (2**63 - 1, -0.0, Decimal("42.100000"))
    assert by_id[5][1:4] == (-(2**63), None, None)
    assert by_id[7][1:4] == (None, -1e-300, Decimal("-123456789012.345678"))
    assert by_id[4][5:8] == (dt.date(1, 1, 1), dt.datetime(1970, 1, 1), False)
    assert by_id[6][5:8] == (
        dt.date(2024, 2, 29),
        dt.datetime(2024, 1, 1, 12, 30, 45, 123456),
        True,
    )
    assert by_id[107][8] == OBJECT_ID


def test_dates_kept_as_read_text_load_as_dates(pg_engine: Engine) -> None:
    columns = chunk(1, 3)
    days = [dt.date(2024, 1, 31), dt.date(1999, 12, 1), dt.date(2000, 2, 29)]
    columns[5] = TextBacked(days, [day.isoformat() for day in days])
    got = both_paths(pg_engine, [columns])
    assert [row[5] for row in got] == days


@pytest.mark.parametrize(
    ("ids", "scores", "as_read"),
    [
        (["1", "+2", "-3", "007"], ["1.50", "-.5", "2.", "+0"], (True, True)),
        ([" 4", "5", "6", "7"], ["1.5", "2", "3 ", "4"], (False, False)),  # blanks
        (["1_000", "2", "3", "4"], ["1", "2", "3", "1_0.5"], (False, False)),  # underscores
        (["\u0661\u0662", "2", "3", "4"], ["1", "2", "3", "4"], (False, True)),  # Arabic digits
        (["1", "2", "3", "4"], ["1e-400", "1E3", "5", "6"], (True, False)),  # exponents
        (["1", "2", "3", "4"], ["0." + "0" * 300 + "1", "5", "6", "7"], (True, False)),  # long
    ],
)
def test_numbers_go_as_read_only_when_every_server_reads_them_as_python_does(
    pg_engine: Engine, ids: list[str], scores: list[str], as_read: tuple[bool, bool]
) -> None:
    field = {f.name: f for f in Every.__fields__}
    columns = chunk(1, 4)
    columns[0], problems = field["id"].convert_column(ids, texts=True)
    assert not problems
    columns[2], problems = field["score"].convert_column(scores, texts=True)
    assert not problems
    assert (isinstance(columns[0], TextBacked), isinstance(columns[2], TextBacked)) == as_read
    got = both_paths(pg_engine, [columns])
    assert [row[2] for row in got] == [score for _, score in sorted(zip(columns[0], columns[2]))]


def test_values_a_hook_changed_to_other_types_load_as_the_insert_path_loads_them(
    pg_engine: Engine,
) -> None:
    changed = chunk(51, 4)
    changed[0] = [str(i) for i in changed[0]]  # text ids, as a post_transform hook may set
    changed[2] = [3, 4, 5, 6]  # whole numbers in a float column
    changed[5] = ["2024-05-06", None, "2024-05-07", "2024-05-08"]
    got = both_paths(pg_engine, [chunk(1, 50), changed, chunk(55, 10)])
    assert [row[0] for row in got] == list(range(1, 65))
    assert [row[2] for row in got[50:54]] == [3.0, 4.0, 5.0, 6.0]
    assert got[50][5] == dt.date(2024, 5, 6)


def test_an_existing_table_of_other_column_types_loads_as_the_insert_path_loads_it(
    pg_engine: Engine,
) -> None:
    for name in ("by_copy", "by_insert"):
        with pg_engine.begin() as conn:
            conn.execute(
                text(
                    f"CREATE TABLE {name} (id BIGINT, big NUMERIC, score DOUBLE PRECISION, amount NUMERIC, "
                    "note TEXT, day TIMESTAMP, moment TIMESTAMPTZ, flag BOOLEAN, "
                    "etl_object_id TEXT NOT NULL)"
                )
            )
    got = both_paths(pg_engine, [chunk(1, 30)])
    assert got[3][5] == dt.datetime(1, 1, 1) and got[0][4] == "tab\there"


def narrow_target(engine: Engine) -> None:
    """``every`` as a migration might have made it: amounts of at most 99.99, no zero ``big``."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE every (id INTEGER, big BIGINT CHECK (big <> 0), "
                "score DOUBLE PRECISION, amount NUMERIC(4, 2), note VARCHAR(5000), day DATE, "
                "moment TIMESTAMP, flag BOOLEAN, etl_object_id VARCHAR(32) NOT NULL)"
            )
        )


def amounts(start: int, bad: int | None = None) -> list[Sequence[object]]:
    """Ten rows from id ``start`` that fit the narrow target, but for row ``bad`` (1-based)."""
    columns: list[Sequence[object]] = chunk(start, 10)
    columns[1] = [1] * 10
    columns[3] = [Decimal("1.5")] * 10
    if bad is not None:
        columns[3][bad - 1] = Decimal("123.5")
    return columns


@pytest.mark.parametrize("wait_between", [False, True])
def test_a_value_the_server_refuses_names_its_row_over_the_object_and_its_column(
    pg_engine: Engine, wait_between: bool
) -> None:
    narrow_target(pg_engine)
    target = target_table("every", Every.__fields__)
    with pytest.raises(ObjectProblem) as refused:
        with pg_engine.begin() as conn:
            with Loader(conn, target, Every.__fields__, OBJECT_ID) as loader:
                loader.insert(amounts(1))
                if wait_between:  # as before writing rejects: the next chunk starts a new COPY
                    loader.wait()
                loader.insert(amounts(11, bad=7))
    assert str(refused.value) == (
        "PostgreSQL refused good row 17, column amount: numeric field overflow"
    )
    assert rows(pg_engine, "every") == []
