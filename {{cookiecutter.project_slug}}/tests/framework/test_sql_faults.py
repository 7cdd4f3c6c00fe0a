"""Killing a table build at any point leaves the old or the new table, whole, and no leftovers."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, inspect, literal, text

import {{ cookiecutter.package_name }} as package
from {{ cookiecutter.package_name }}.errors import InjectedCrash
from {{ cookiecutter.package_name }}.sql.audit import Audit
from {{ cookiecutter.package_name }}.sql.checks import row_count
from {{ cookiecutter.package_name }}.sql.session import Session

pytestmark = pytest.mark.faults

ROWS = 3000
CHILD = """
import sys
from sqlalchemy import literal
from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.sql.session import Session

url, first, loops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
form = sys.argv[4] if len(sys.argv) > 4 else "table"
source = Session(make_engine(url)).table("source")
for generation in range(first, first + loops):
    frame = source.select(source.id, literal(generation).label("gen"))
    frame.materialize("target", as_=form, unique_key="id" if form == "incremental" else None)
    print(generation, flush=True)
"""


@pytest.fixture
def session(engine: Engine) -> Session:
    table = Table("source", MetaData(), Column("id", Integer))
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), [{"id": i} for i in range(ROWS)])
    session = Session(engine)
    _build(session, 1)
    return session


def _build(session: Session, generation: int) -> None:
    source = session.table("source")
    source.select(source.id, literal(generation).label("gen")).materialize("target")


def _generation(engine: Engine) -> int:
    """The one generation the target holds, asserting it is complete."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT gen, COUNT(*) FROM target GROUP BY gen")).fetchall()
    assert len(rows) == 1 and rows[0][1] == ROWS, f"target is mixed or partial: {rows}"
    return int(rows[0][0])


def _leftovers(engine: Engine) -> list[str]:
    inspector = inspect(engine)
    names = [*inspector.get_table_names(), *inspector.get_view_names()]
    return [n for n in names if "__pl_" in n]


def _child(tmp_path: Path, url: str, first: int, loops: int, crash_at: str | None, form="table"):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(Path(package.__file__).parents[1])}
    env.pop("PIPELINE_CRASH_AT", None)
    if crash_at:
        env["PIPELINE_CRASH_AT"] = crash_at
    args = [sys.executable, str(script), url, str(first), str(loops), form]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ("materialize.after_build", 1),
        ("materialize.before_swap", 1),
        ("materialize.after_swap", 2),
    ],
)
def test_sigkill_at_a_crash_point_leaves_a_whole_table(session, engine, tmp_path, point, expected):
    child = _child(tmp_path, _url(engine), 2, 1, point)
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()
    assert _generation(engine) == expected
    _build(session, 3)
    assert _generation(engine) == 3
    assert _leftovers(engine) == []


def test_sigkill_inside_an_incremental_merge_changes_nothing(session, engine, tmp_path):
    child = _child(
        tmp_path, _url(engine), 2, 1, "materialize.incremental_before_insert", "incremental"
    )
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()
    assert _generation(engine) == 1  # the delete of the old rows was rolled back with the kill
    source = session.table("source")
    frame = source.select(source.id, literal(3).label("gen"))
    frame.materialize("target", as_="incremental", unique_key="id")
    assert _generation(engine) == 3
    assert _leftovers(engine) == []


@pytest.mark.parametrize("point", ["materialize.after_build", "materialize.before_swap"])
def test_exception_at_a_crash_point_keeps_the_old_table(session, engine, monkeypatch, point):
    monkeypatch.setenv("PIPELINE_CRASH_AT", point)
    monkeypatch.setenv("PIPELINE_CRASH_ACTION", "raise")
    with pytest.raises(InjectedCrash):
        _build(session, 2)
    assert _generation(engine) == 1
    assert _leftovers(engine) == []


@pytest.mark.parametrize("form", ["table", "view", "incremental"])
@pytest.mark.parametrize("point", ["materialize.after_audit", "materialize.before_reject"])
def test_exception_while_auditing_a_refused_build_keeps_the_old_table(
    session, engine, monkeypatch, point, form
):
    monkeypatch.setenv("PIPELINE_CRASH_AT", point)
    monkeypatch.setenv("PIPELINE_CRASH_ACTION", "raise")
    source = session.table("source")
    frame = source.select(source.id, literal(2).label("gen"))
    audit = Audit([row_count(max=ROWS - 1)])  # refuses every build of `target`
    with pytest.raises(InjectedCrash):
        frame.materialize("target", as_=form, unique_key="id", audit=audit)
    assert _generation(engine) == 1
    assert _leftovers(engine) == []
    assert not inspect(engine).has_table("target__rejected")


@pytest.mark.slow
def test_sigkill_at_random_moments_never_breaks_the_table(session, engine, tmp_path):
    rng = random.Random(20240601)
    for trial in range(6):
        child = _child(tmp_path, _url(engine), 10 * (trial + 1), 1000, None)
        assert child.stdout.readline()  # one generation done: the child is inside a loop now
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        assert _generation(engine) >= 10 * (trial + 1)
    _build(session, 999)
    assert _generation(engine) == 999
    assert _leftovers(engine) == []
