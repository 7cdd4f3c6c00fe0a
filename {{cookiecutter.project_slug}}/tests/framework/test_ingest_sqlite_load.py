"""SQLite's bulk loader writes each chunk on a thread of its own, in statements of many rows,
while the next chunk is read: the table must hold exactly what plain one-row INSERTs write,
whatever the chunks, and the interpreter's switch interval must be back as it was after.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.ingest import IngestModel, fields
from {{ cookiecutter.package_name }}.ingest.field_base import Field
from {{ cookiecutter.package_name }}.ingest.load import Loader, target_table
from {{ cookiecutter.package_name }}.ingest.switch_interval import SWITCH_INTERVAL

OBJECT_ID = "0123456789abcdef0123456789abcdef"
FIELDS: list[Field] = [
    fields.Integer(required=True),
    fields.Float(),
    fields.String(length=12),
    fields.Date(),
    fields.Integer(big=True),
]
for _field, _name in zip(FIELDS, ["id", "score", "label", "day", "qty"]):
    _field.__set_name__(IngestModel, _name)

ROW = st.tuples(
    st.floats(allow_nan=False, allow_infinity=False) | st.none(),
    st.text(max_size=12) | st.none(),
    st.dates() | st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.none(),
)


def _load(path: Path, chunks: list[list[tuple[Any, ...]]], *, bulk: bool) -> list[Any]:
    """Load the chunks (rows numbered by id) into a new table; its rows by id."""
    engine = make_engine(f"sqlite:///{path}")
    table = target_table("rows", FIELDS)
    ids = itertools.count(1)
    try:
        table.create(engine)
        with engine.begin() as conn, Loader(conn, table, FIELDS, OBJECT_ID, bulk=bulk) as loader:
            assert loader.background is bulk
            for chunk in chunks:
                rows = [(next(ids), *row) for row in chunk]
                columns = [list(column) for column in zip(*rows)] or [[] for _ in FIELDS]
                assert loader.insert(columns) == len(chunk)
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text("SELECT * FROM rows ORDER BY id"))]
    finally:
        engine.dispose()


@settings(max_examples=40, deadline=None)
@given(chunks=st.lists(st.lists(ROW, max_size=60), max_size=5), big=st.integers(0, 2500))
def test_the_threaded_many_row_statements_write_what_one_row_inserts_write(
    chunks: list[list[tuple[Any, ...]]], big: int
) -> None:
    # One chunk long enough for whole statements of many rows, and a remainder.
    chunks = [*chunks, [(float(i), f"r{i}", dt.date(2024, 1, 1), i) for i in range(big)]]
    before = sys.getswitchinterval()
    with tempfile.TemporaryDirectory() as folder:
        fast = _load(Path(folder) / "fast.db", chunks, bulk=True)
        assert sys.getswitchinterval() == before
        assert fast == _load(Path(folder) / "plain.db", chunks, bulk=False)
    assert len(fast) == sum(map(len, chunks))
    assert all(row[-1] == OBJECT_ID for row in fast)


def test_a_failed_chunk_fails_the_load_and_leaves_nothing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    table = target_table("rows", FIELDS)
    before = sys.getswitchinterval()
    try:
        table.create(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql(
                "CREATE TRIGGER no_sevens BEFORE INSERT ON rows WHEN NEW.id = 7 "
                "BEGIN SELECT RAISE(ABORT, 'no sevens'); END"
            )
            conn.commit()
        good: list[list[Any]] = [
            list(range(100, 1300)),
            [1.5] * 1200,
            ["x"] * 1200,
            [None] * 1200,
            [1] * 1200,
        ]
        bad: list[list[Any]] = [[7], [1.0], ["y"], [None], [2]]
        with pytest.raises(Exception, match="no sevens"):
            with engine.begin() as conn, Loader(conn, table, FIELDS, OBJECT_ID) as loader:
                loader.insert(good)
                loader.insert(bad)
                loader.insert(good)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM rows").scalar() == 0
    finally:
        engine.dispose()
    assert sys.getswitchinterval() == before


def _load_around(path: Path, inside: Callable[[], None]) -> None:
    """Load one row in the background, call ``inside`` with the load under way, then end it."""
    engine = make_engine(f"sqlite:///{path}")
    table = target_table("rows", FIELDS)
    try:
        table.create(engine)
        with engine.begin() as conn, Loader(conn, table, FIELDS, OBJECT_ID) as loader:
            assert loader.background
            loader.insert([[1], [1.5], ["x"], [None], [2]])
            inside()
    finally:
        engine.dispose()


@pytest.mark.parametrize("first_out", ["first in", "last in"])
def test_loads_at_once_on_two_threads_leave_the_switch_interval_as_it_was(
    tmp_path: Path, first_out: str
) -> None:
    # Load A starts, then load B while A still runs; they end in either order. The interval
    # must be back after both, and lowered for each while it loads, the other in or out.
    before = sys.getswitchinterval()
    a_in, b_in, a_out, b_out = (threading.Event() for _ in range(4))
    seen: dict[str, float] = {}

    def wait(event: threading.Event) -> None:
        assert event.wait(30), "the other load never got there"

    def a_inside() -> None:
        seen["A with B"] = sys.getswitchinterval()
        a_in.set()
        wait(b_in)
        if first_out == "last in":
            wait(b_out)
            seen["A after B"] = sys.getswitchinterval()

    def b_inside() -> None:
        seen["B with A"] = sys.getswitchinterval()
        b_in.set()
        if first_out == "first in":
            wait(a_out)
            seen["B after A"] = sys.getswitchinterval()

    def load_a() -> None:
        try:
            _load_around(tmp_path / "a.db", a_inside)
        finally:
            a_in.set()  # B need not wait on a failed A
            a_out.set()

    def load_b() -> None:
        wait(a_in)
        try:
            _load_around(tmp_path / "b.db", b_inside)
        finally:
            b_in.set()
            b_out.set()

    try:
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(load_a), pool.submit(load_b)]
            for future in futures:
                future.result(timeout=60)
        assert sys.getswitchinterval() == before
        lowered = pytest.approx(min(before, SWITCH_INTERVAL), abs=1e-7)  # whole microseconds
        assert len(seen) == 3
        assert seen == {moment: lowered for moment in seen}
    finally:
        sys.setswitchinterval(before)  # never leave a failure's interval to the other tests
