"""Helpers for the fault-injection tests: a small staged pipeline whose tables have a known
content per version, side-effect counters, and checks that tables are wholly old or new."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine_support import write_models
from sqlalchemy import Engine, MetaData, Table, inspect, select

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sql.session import Session

PACKAGE = Session.__module__.split(".")[0]
SEED = [{"v": v} for v in range(1, 6)]
SHADOW_MARK = "__pl_"

# m1 and m2 form the stage "marts"; solo (a table) and tally (incremental) are built beside it;
# report reads the stage.
STAGED_PIPELINE = """
    from pathlib import Path

    from PACKAGE.core.task import Task

    COUNTS = Path(__file__).resolve().parents[1] / "counts"


    def bump(name):
        COUNTS.mkdir(exist_ok=True)
        with open(COUNTS / name, "a") as handle:
            handle.write("x")


    @Task(stage="marts")
    def m1(session, config):
        bump("m1")
        df = session.table("seed")
        return df.with_column("w", df.v * config["version"])


    @Task(stage="marts")
    def m2(session, config):
        bump("m2")
        df = session.table("seed")
        return df.with_column("w", df.v + config["version"])


    @Task()
    def solo(session, config):
        bump("solo")
        df = session.table("seed")
        return df.with_column("w", df.v - config["version"])


    @Task()
    def tally(session, config):
        bump("tally")
        df = session.table("seed")
        return df.with_column("w", df.v * 10 + config["version"])


    @Task(depends_on=[m1, m2])
    def report(session):
        bump("report")
        return session.sql("SELECT m1.v AS v, m1.w + m2.w AS w FROM m1 JOIN m2 ON m1.v = m2.v")
""".replace("PACKAGE", PACKAGE)

TARGETS = ("m1", "m2", "solo", "tally", "report")
STAGE = ("m1", "m2")


def expected(table: str, version: int) -> set[tuple[int, int]]:
    """The rows a target holds when built at ``version``."""
    values = [row["v"] for row in SEED]
    if table == "m1":
        return {(v, v * version) for v in values}
    if table == "m2":
        return {(v, v + version) for v in values}
    if table == "solo":
        return {(v, v - version) for v in values}
    if table == "tally":
        return {(v, v * 10 + version) for v in values}
    return {(v, v * version + v + version) for v in values}


def set_version(settings: Settings, version: int) -> None:
    """Rewrite the test project's ``tasks:`` block so every target is built at ``version``."""
    path = settings.root / "settings.yml"
    text = re.sub(r"(?ms)^tasks:.*?(?=^\S|\Z)", "", path.read_text(encoding="utf-8"))
    block = "".join(f"  {name}:\n    version: {version}\n" for name in ("m1", "m2", "solo"))
    block += f"  tally:\n    version: {version}\n    materialize: incremental\n    unique_key: v\n"
    path.write_text(text.rstrip() + f"\n\ntasks:\n{block}", encoding="utf-8")


def staged_project(settings: Settings) -> None:
    """Write the staged pipeline and its seed table into the (migrated) test project."""
    write_models(settings.root, STAGED_PIPELINE)
    engine = make_engine(settings.database_url)
    try:
        Session(engine).create_dataframe(SEED, name="seed")
    finally:
        engine.dispose()


def rows_of(engine: Engine, table: str) -> set[tuple[Any, ...]] | None:
    """Every row of ``table`` as a set of tuples, or None when it does not exist."""
    if not inspect(engine).has_table(table):
        return None
    reflected = Table(table, MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        return {tuple(int(value) for value in row) for row in conn.execute(select(reflected))}


def versions(settings: Settings, tables: Iterable[str] = TARGETS) -> dict[str, int | None]:
    """Which version each table holds wholly (None: missing, or a mix of versions)."""
    engine = make_engine(settings.database_url)
    try:
        found = {}
        for table in tables:
            rows = rows_of(engine, table)
            found[table] = next((v for v in (1, 2) if rows == expected(table, v)), None)
        return found
    finally:
        engine.dispose()


def snapshot(settings: Settings, tables: Iterable[str]) -> dict[str, list[tuple[str, ...]] | None]:
    """Each table's rows as sorted text tuples (None when missing): equal snapshots, same data."""
    engine = make_engine(settings.database_url)
    try:
        found: dict[str, list[tuple[str, ...]] | None] = {}
        for table in tables:
            if not inspect(engine).has_table(table):
                found[table] = None
                continue
            reflected = Table(table, MetaData(), autoload_with=engine)
            with engine.connect() as conn:
                rows = conn.execute(select(reflected))
                found[table] = sorted(tuple(str(value) for value in row) for row in rows)
        return found
    finally:
        engine.dispose()


def with_counted_example(settings: Settings, project_root: Path) -> None:
    """Copy the shipped example (models and seeds), each task counting its executions."""
    shutil.copytree(project_root / "seeds", settings.root / "seeds")
    source = (project_root / "models" / "predictions.py").read_text(encoding="utf-8")
    (settings.root / "models").mkdir(exist_ok=True)
    (settings.root / "models" / "predictions.py").write_text(source + COUNTING, encoding="utf-8")


# Appended to the example: wrap every task body so each execution leaves a mark.
COUNTING = """

import functools as _functools
from pathlib import Path as _Path

from PACKAGE.core.task import collect_defined as _collect_defined

_COUNTS = _Path(__file__).resolve().parents[1] / "counts"


def _counted(task):
    inner = task.func

    @_functools.wraps(inner)
    def counted(**kwargs):
        _COUNTS.mkdir(exist_ok=True)
        with open(_COUNTS / task.name, "a") as handle:
            handle.write("x")
        return inner(**kwargs)

    task.func = counted


for _task in _collect_defined():
    if _task.__module__ == __name__:
        _counted(_task)
""".replace("PACKAGE", PACKAGE)


def leftovers(settings: Settings) -> list[str]:
    """Shadow tables (of a build or a stage) in the database."""
    engine = make_engine(settings.database_url)
    try:
        return sorted(name for name in inspect(engine).get_table_names() if SHADOW_MARK in name)
    finally:
        engine.dispose()


def counts(root: Path) -> dict[str, int]:
    """How many times each task's body has started, over all runs."""
    folder = root / "counts"
    if not folder.is_dir():
        return {}
    return {path.name: len(path.read_text()) for path in folder.iterdir()}
