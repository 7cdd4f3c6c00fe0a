"""The ingest crash-point matrix: every ingest crash point x {SIGKILL, SIGINT, SIGTERM} x
{first load, ``--force`` reload, resumed load}, on each backend.

The real command line dies at the crash point. Afterwards the object's rows are in the target
exactly once or not at all, and its ledger status says which (``loaded``, or not); the next
plain ``ingest`` then leaves them exactly once, and ``loaded``.
"""

from __future__ import annotations

import re
import signal

import pytest
from engine_support import SRC, cli, migrated
from test_failure_ingest import ROWS, counts, crashed_cli, orders

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.ingest.ledger import recent_objects
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated", "orders"]
pytestmark = [pytest.mark.faults, pytest.mark.slow]

POINTS = ["ingest.extract.committed", "ingest.load.after_chunk"]
# action -> exit code of the command that dies
ACTIONS = {"kill": -signal.SIGKILL, "interrupt": 130, "terminate": 130}
PHASES = ["first", "force", "resumed"]


def test_the_matrix_covers_every_crash_point_of_an_ingest() -> None:
    package = Settings.__module__.split(".")[0]
    named = set()
    for path in (SRC / package / "ingest").rglob("*.py"):
        named |= set(re.findall(r"crash_point\(\"([a-z_.]+)\"\)", path.read_text()))
    assert named == set(POINTS)


def _before(orders: Settings, phase: str) -> tuple[str, ...]:
    """Bring the object to the phase's start; the arguments of the ingest that will crash."""
    if phase == "force":
        assert cli(orders, "ingest", "orders").returncode == 0
        return ("ingest", "orders", "--force")
    if phase == "resumed":  # a first load killed mid-load: the crash hits its resumption
        killed = crashed_cli(orders, "kill", "ingest", "orders")
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    return ("ingest", "orders")


def _state(orders: Settings) -> tuple[int, int, str]:
    """Rows, distinct ids, and the object's status once dead claims are seen as such."""
    engine = make_engine(orders.database_url)
    try:
        [obj] = recent_objects(engine, "orders")
    finally:
        engine.dispose()
    rows, ids, _ = counts(orders)
    return rows, ids, obj["status"]


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("point", POINTS)
def test_an_ingest_crash_leaves_rows_once_or_not_at_all_and_the_next_ingest_loads_them_once(
    orders: Settings, point: str, action: str, phase: str
) -> None:
    args = _before(orders, phase)
    crashed = crashed_cli(orders, action, *args, point=point)
    assert crashed.returncode == ACTIONS[action], crashed.stderr
    assert "Traceback" not in crashed.stderr
    if action != "kill":
        assert crashed.stderr.strip() == "interrupted"

    rows, ids, status = _state(orders)
    assert rows == ids and rows in (0, ROWS), f"rows {rows}, distinct ids {ids}"
    assert (status == "loaded") == (rows == ROWS), f"status {status} with {rows} rows"
    assert rows == (ROWS if phase == "force" else 0)

    again = cli(orders, "ingest", "orders")
    assert again.returncode == 0, again.stderr
    assert _state(orders) == (ROWS, ROWS, "loaded")
