"""The ``ingest`` command: load a model's files, say when nothing is new, show the ledger."""

from __future__ import annotations

import pytest
from engine_support import cli, migrated, write_models
from ingest_support import HEADER, ORDERS_MODELS, good_rows, write

from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]


@pytest.mark.slow
def test_ingest_loads_then_says_nothing_is_new(migrated: Settings) -> None:
    write_models(migrated.root, ORDERS_MODELS)
    write(migrated.root, "a.csv", HEADER + good_rows(3) + "9,x,abc,2024-01-01,1\n")
    first = cli(migrated, "ingest", "orders")
    assert first.returncode == 0, first.stderr
    assert (
        "orders v1 -> orders: 1 loaded, 0 skipped, 0 failed; rows read 4, loaded 3, rejected 1"
        in first.stdout
    )
    again = cli(migrated, "ingest", "orders")
    assert again.returncode == 0 and "nothing new to load (1 already loaded)" in again.stdout


def test_ingest_takes_explicit_paths(migrated: Settings) -> None:
    write_models(migrated.root, ORDERS_MODELS)
    write(migrated.root, "a.csv", HEADER + good_rows(3))
    other = migrated.root / "elsewhere.csv"
    other.write_text(HEADER + good_rows(2, start=50), encoding="utf-8")
    done = cli(migrated, "ingest", "orders", str(other))
    assert done.returncode == 0, done.stderr
    assert "rows read 2, loaded 2" in done.stdout


def test_a_failed_object_exits_non_zero_with_its_reason(migrated: Settings) -> None:
    write_models(migrated.root, ORDERS_MODELS)
    write(migrated.root, "empty.csv", b"")
    done = cli(migrated, "ingest", "orders")
    assert done.returncode == 1
    assert "1 object failed" in done.stderr and "is empty (0 bytes)" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_model_is_refused_with_the_known_ones(migrated: Settings) -> None:
    write_models(migrated.root, ORDERS_MODELS)
    done = cli(migrated, "ingest", "ordres")
    assert done.returncode == 2
    assert "no ingest model named 'ordres'; the ingest models are: orders" in done.stderr


@pytest.mark.slow
def test_status_lists_objects_with_their_counts(migrated: Settings) -> None:
    write_models(migrated.root, ORDERS_MODELS)
    write(migrated.root, "a.csv", HEADER + good_rows(3))
    cli(migrated, "ingest", "orders")
    done = cli(migrated, "ingest", "--status", "--json")
    assert done.returncode == 0, done.stderr
    assert '"status": "loaded"' in done.stdout and '"rows_loaded": 3' in done.stdout
