"""Ingest failure paths a user meets: an interrupted ``--force`` reload, Ctrl-C or SIGTERM
mid-load, a field over the csv module's size limit, a glob that matches nothing.

Each runs the real command line on the test database; afterwards every row is in the target
exactly once and the ledger says the object is loaded.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from engine_support import cli, cli_env, migrated, write_models
from ingest_support import HEADER, good_rows, write
from sqlalchemy import text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.faults import CRASH_ACTION_ENV, CRASH_AT_ENV
from {{ cookiecutter.package_name }}.settings import Settings

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


def crashed_cli(
    settings: Settings, action: str, *args: str, point: str = "ingest.load.after_chunk"
) -> subprocess.CompletedProcess:
    """The CLI run to completion, dying (or interrupted) at ``point``."""
    env = {**cli_env(settings), CRASH_AT_ENV: point, CRASH_ACTION_ENV: action}
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        cwd=settings.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def counts(settings: Settings) -> tuple[int, int, list[str]]:
    """Rows in the target, distinct ids, and the statuses of the ledger's objects."""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            rows, ids = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT id) FROM orders")).one()
            found = conn.execute(text("SELECT status FROM etl_data_objects ORDER BY created_at"))
            return int(rows), int(ids), list(found.scalars())
    finally:
        engine.dispose()


@pytest.fixture
def orders(migrated: Settings) -> Settings:
    """The test project with the Orders model and one input file of ROWS rows."""
    write_models(migrated.root, MODELS)
    write(migrated.root, "day.csv", HEADER + good_rows(ROWS))
    return migrated


@pytest.mark.faults
def test_an_interrupted_force_reload_then_a_plain_ingest_keeps_each_row_once(
    orders: Settings,
) -> None:
    assert cli(orders, "ingest", "orders").returncode == 0
    killed = crashed_cli(orders, "kill", "ingest", "orders", "--force")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert counts(orders)[:2] == (ROWS, ROWS)  # the reload was rolled back whole

    again = cli(orders, "ingest", "orders")
    assert again.returncode == 0, again.stderr
    assert counts(orders) == (ROWS, ROWS, ["loaded"])


@pytest.mark.faults
@pytest.mark.parametrize("action", ["interrupt", "terminate"])
def test_sigint_or_sigterm_mid_load_says_interrupted_in_one_line_and_exits_130(
    orders: Settings, action: str
) -> None:
    stopped = crashed_cli(orders, action, "ingest", "orders")
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.strip() == "interrupted"
    assert counts(orders) == (0, 0, ["failed"])  # rolled back, and not left loading

    again = cli(orders, "ingest", "orders")
    assert again.returncode == 0, again.stderr
    assert counts(orders) == (ROWS, ROWS, ["loaded"])


@pytest.mark.parametrize("given", ["inbox/*.cvs", "inbox/nothere.csv"])
def test_a_path_or_glob_matching_no_file_exits_2_in_one_line(orders: Settings, given: str) -> None:
    done = cli(orders, "ingest", "orders", given)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: no file matches {given}") and "Traceback" not in line
    assert done.stdout == ""  # nothing was ingested
