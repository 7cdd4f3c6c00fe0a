"""kill -9 in the middle of a load: nothing of the object is committed, the next run loads it once."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_support import HEADER, good_rows, objects, table_rows
from sqlalchemy import Engine

from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.ingest.ledger import recent_objects
from {{ cookiecutter.package_name }}.ingest.runner import ingest
from {{ cookiecutter.package_name }}.settings import Settings

pytestmark = pytest.mark.faults

SRC = Path(__file__).resolve().parents[2] / "src"
MODEL = """
from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields


class Ticks(IngestModel):
    __table__ = "ticks"
    __source__ = CsvSource("inbox/*.csv")
    __chunk_size__ = 100

    id = fields.Integer(required=True)
    price = fields.Float()
    ticker = fields.UppercaseString(length=8)
    day = fields.Date(required=True)
    qty = fields.Integer()
"""
RUN = "import ticks; from {{ cookiecutter.package_name }}.ingest.runner import ingest; ingest(ticks.Ticks)"


def checksum(rows: list[tuple]) -> str:
    return hashlib.sha256(repr([tuple(map(str, row)) for row in rows]).encode()).hexdigest()


@pytest.fixture
def ticks(settings: Settings, engine: Engine) -> Iterator[type]:
    upgrade(settings)
    (settings.root / "ticks.py").write_text(MODEL, encoding="utf-8")
    sys.path.insert(0, str(settings.root))
    sys.modules.pop("ticks", None)
    try:
        import ticks as module

        yield module.Ticks
    finally:
        sys.path.remove(str(settings.root))
        sys.modules.pop("ticks", None)


def killed_mid_load(
    settings: Settings, point: str = "ingest.load.after_chunk"
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), str(settings.root)]),
        "PIPELINE_CRASH_AT": point,
        "PIPELINE_CRASH_ACTION": "kill",
    }
    return subprocess.run(
        [sys.executable, "-c", RUN], cwd=settings.root, env=env, capture_output=True, timeout=120
    )


def test_kill_9_during_load_commits_no_rows_and_marks_the_object_crashed(
    settings: Settings, engine: Engine, ticks: type
) -> None:
    (settings.root / "inbox").mkdir()
    (settings.root / "inbox" / "day.csv").write_text(HEADER + good_rows(1000), encoding="utf-8")
    done = killed_mid_load(settings)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    assert table_rows(engine, "ticks") == []
    [obj] = recent_objects(engine, "ticks")
    assert obj["status"] == "crashed" and obj["load_status"] == "crashed"
    assert "died mid-load" in obj["error"]


def test_after_a_kill_9_the_next_run_loads_the_object_exactly_once(
    settings: Settings, engine: Engine, ticks: type
) -> None:
    (settings.root / "inbox").mkdir()
    (settings.root / "inbox" / "day.csv").write_text(HEADER + good_rows(1000), encoding="utf-8")
    assert killed_mid_load(settings).returncode == -signal.SIGKILL
    report = ingest(ticks, settings=settings)
    assert report.rows_affected == 1000
    expected = [
        (i, i * 1.5, f"ABC{i % 7}", f"2024-01-{i % 28 + 1:02d}", i * 10) for i in range(1, 1001)
    ]
    rows = table_rows(engine, "ticks")
    assert len(rows) == 1000 and checksum(rows) == checksum(expected)
    [obj] = objects(engine, "ticks")
    assert (obj.status, obj.attempts, obj.rows_loaded) == ("loaded", 2, 1000)


def test_a_run_killed_after_extract_resumes_from_the_raw_copy_even_if_the_input_is_gone(
    settings: Settings, engine: Engine, ticks: type
) -> None:
    source = settings.root / "inbox" / "day.csv"
    source.parent.mkdir()
    source.write_text(HEADER + good_rows(1000), encoding="utf-8")
    assert killed_mid_load(settings, "ingest.extract.committed").returncode == -signal.SIGKILL
    [extracted] = objects(engine, "ticks")
    assert extracted.status == "extracted" and table_rows(engine, "ticks") == []
    inode = os.stat(extracted.raw_path).st_ino
    source.unlink()
    report = ingest(ticks, settings=settings)
    assert [r.status for r in report.objects] == ["loaded"] and report.rows_affected == 1000
    [loaded] = objects(engine, "ticks")
    assert (loaded.id, loaded.status, loaded.attempts) == (extracted.id, "loaded", 1)
    assert os.stat(loaded.raw_path).st_ino == inode
