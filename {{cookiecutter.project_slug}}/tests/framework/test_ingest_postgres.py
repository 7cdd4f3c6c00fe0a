"""The ingest command on PostgreSQL, where rows go in by COPY: a load, a ``--force`` reload, a
chunk the server refuses, kill -9 and Ctrl-C mid-load.

Each runs the real command line on a fresh PostgreSQL database; afterwards every row is in the
target once or not at all, and the ledger says which.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from engine_support import cli, cli_env, migrated, write_models
from ingest_support import HEADER, good_rows, table_rows, write
from mysql_support import fresh_database, url_string
from sqlalchemy import text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.faults import CRASH_ACTION_ENV, CRASH_AT_ENV
from {{ cookiecutter.package_name }}.settings import Settings

pytestmark = pytest.mark.postgresql

__all__ = ["migrated"]

PACKAGE = Settings.__module__.split(".")[0]
ROWS = 300
MODELS = """
    from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields

    class Orders(IngestModel):
        __table__ = "orders"
        __source__ = CsvSource("inbox/*.csv")
        __chunk_size__ = 50
        id = fields.Integer(required=True)
        price = fields.Float()
        ticker = fields.UppercaseString(length=8)
        day = fields.Date(required=True)
        qty = fields.Integer()
"""
EXPECTED = [
    (i, i * 1.5, f"ABC{i % 7}", f"2024-01-{i % 28 + 1:02d}", i * 10) for i in range(1, ROWS + 1)
]


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database: the project's ``settings`` and ``migrated`` name it."""
    with fresh_database("postgresql") as url:
        yield url_string(url)


@pytest.fixture
def orders(migrated: Settings) -> Settings:
    """The migrated project with the Orders model and one input file of ROWS rows."""
    write_models(migrated.root, MODELS)
    write(migrated.root, "day.csv", HEADER + good_rows(ROWS))
    return migrated


def crashed_cli(settings: Settings, action: str, *args: str) -> subprocess.CompletedProcess:
    """The CLI run to completion, killed (or interrupted) after its first chunk is sent."""
    env = {**cli_env(settings), CRASH_AT_ENV: "ingest.load.after_chunk", CRASH_ACTION_ENV: action}
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        cwd=settings.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def state(settings: Settings) -> tuple[int, int, list[str], list[str]]:
    """Rows in the target, distinct ids, and the status and error of each ledger object."""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            rows, ids = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT id) FROM orders")).one()
            found = conn.execute(
                text("SELECT status, error FROM etl_data_objects ORDER BY created_at")
            ).all()
        return int(rows), int(ids), [row[0] for row in found], [row[1] for row in found]
    finally:
        engine.dispose()


def loaded_rows(settings: Settings) -> list[tuple[object, ...]]:
    engine = make_engine(settings.database_url)
    try:
        return [(*row[:3], row[3].isoformat(), row[4]) for row in table_rows(engine, "orders")]
    finally:
        engine.dispose()


def test_ingest_on_postgres_loads_every_row_then_says_nothing_is_new(orders: Settings) -> None:
    write(orders.root, "more.csv", HEADER + "9999,x,abc,2024-01-01,1\n")
    first = cli(orders, "ingest", "orders")
    assert first.returncode == 0, first.stderr
    assert "2 loaded, 0 skipped, 0 failed; rows read 301, loaded 300, rejected 1" in first.stdout
    assert loaded_rows(orders) == EXPECTED
    again = cli(orders, "ingest", "orders")
    assert again.returncode == 0 and "nothing new to load (2 already loaded)" in again.stdout


def test_force_reload_on_postgres_replaces_the_rows_once(orders: Settings) -> None:
    assert cli(orders, "ingest", "orders").returncode == 0
    reload = cli(orders, "ingest", "orders", "--force")
    assert reload.returncode == 0, reload.stderr
    assert "rows read 300, loaded 300" in reload.stdout
    assert state(orders)[:3] == (ROWS, ROWS, ["loaded"])
    assert loaded_rows(orders) == EXPECTED


def test_a_chunk_postgres_refuses_fails_the_object_and_rolls_back_every_chunk(
    orders: Settings,
) -> None:
    engine = make_engine(orders.database_url)
    with engine.begin() as conn:  # a table made by a migration, with a rule the data breaks
        conn.execute(
            text(
                "CREATE TABLE orders (id INTEGER, price DOUBLE PRECISION, ticker VARCHAR(8), "
                "day DATE, qty INTEGER CHECK (qty < 2000), etl_object_id VARCHAR(32) NOT NULL)"
            )
        )
    engine.dispose()
    failed = cli(orders, "ingest", "orders")
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    reason = 'PostgreSQL refused good row 200: new row for relation "orders" violates check'
    assert reason in failed.stderr
    rows, ids, statuses, errors = state(orders)
    assert (rows, ids, statuses) == (0, 0, ["failed"])  # chunks 1-3 went back with chunk 4
    assert errors[0].startswith(reason)


@pytest.mark.faults
def test_kill_9_mid_copy_then_a_plain_ingest_on_postgres_keeps_each_row_once(
    orders: Settings,
) -> None:
    killed = crashed_cli(orders, "kill", "ingest", "orders")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert state(orders)[:2] == (0, 0)
    again = cli(orders, "ingest", "orders")
    assert again.returncode == 0, again.stderr
    assert state(orders)[:3] == (ROWS, ROWS, ["loaded"])
    assert loaded_rows(orders) == EXPECTED


@pytest.mark.faults
def test_a_force_reload_killed_mid_copy_on_postgres_keeps_the_old_rows_once(
    orders: Settings,
) -> None:
    assert cli(orders, "ingest", "orders").returncode == 0
    killed = crashed_cli(orders, "kill", "ingest", "orders", "--force")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert state(orders)[:2] == (ROWS, ROWS)  # the reload was rolled back whole
    again = cli(orders, "ingest", "orders")
    assert again.returncode == 0, again.stderr
    assert state(orders)[:3] == (ROWS, ROWS, ["loaded"])


@pytest.mark.faults
def test_ctrl_c_mid_copy_on_postgres_says_interrupted_and_rolls_back(orders: Settings) -> None:
    stopped = crashed_cli(orders, "interrupt", "ingest", "orders")
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.strip() == "interrupted"
    assert state(orders)[:3] == (0, 0, ["failed"])
    again = cli(orders, "ingest", "orders")
    assert again.returncode == 0, again.stderr
    assert state(orders)[:3] == (ROWS, ROWS, ["loaded"])
