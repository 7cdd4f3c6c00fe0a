"""Dashboard benchmark: every page on a large history, on SQLite and MariaDB, beside pandas.

The database gets 100,000 runs, 5,000,000 task runs (50 a run), 200,000 data-check results,
50,000 ingest objects and a 300,000-row output table: runs through executemany, task runs by
one INSERT ... SELECT. The SQLite file is kept under data/ keyed by its size, seed and schema,
so a second run reuses it; MariaDB (``MYSQL_URL``; skipped with a line when unset) is seeded in
a throwaway database. Each page is rendered in Streamlit's AppTest with a cold cache (every
query hits the database), three times; the median and max are printed beside the goal. The
baseline is what a quick dashboard does: read the ledger into pandas and aggregate there.
Goal: every page under 0.5 s server-side. ``BENCH_DASHBOARD_RUNS=10000`` (or ``--runs``)
gives a quick run.

Measured on a shared 2-core machine (load 3.5), 100,000 runs / 5M task runs, median / max s:
SQLite overview 0.138/0.141, runs 0.078/0.083, run-detail 0.076/0.090, dag 0.036/0.046,
tables 0.059/0.158, ingest 0.070/0.096; MariaDB 10.11 overview 0.250/0.306, runs
0.096/0.134, run-detail 0.090/0.092, dag 0.043/0.062, tables 0.160/0.215, ingest
0.132/0.137. Baseline 17.0 s (SQLite), 29.3 s (MariaDB). Seeding: SQLite 50 s once (then
reused), MariaDB 114 s. The read model before its index walks and estimates, on the same
data: SQLite runs 0.382, dag 0.088, tables 0.148; MariaDB tables 1.080 (NOT MET: its
catalogue counted the 5M task runs).

    python benchmarks/bench_dashboard.py [--runs 100000] [--tasks 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from streamlit.logger import set_log_level
from streamlit.testing.v1 import AppTest

from {{ cookiecutter.package_name }}.core.discovery import discover_path
from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.testing.database import fresh_server_database

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
PAGES = ["overview", "runs", "run-detail", "dag", "tables", "ingest"]
GOAL_S = 0.5
RUNS_ENV = "BENCH_DASHBOARD_RUNS"
# The read-only user docker/mysql/init.sql creates (it may read every test_* database).
READONLY_DEFAULTS = {"USER": "dashboard", "PASSWORD": "dashboard-dev-password"}
CHUNK = 20_000
SEED = 11
OUTPUT_ROWS = 300_000


def _app(package: str, start: str) -> None:
    import importlib

    importlib.import_module(f"{package}.dashboard.navigation").main(start)


def project(folder: Path) -> Path:
    """A copy of this project (settings, migrations, models, seeds) to benchmark in."""
    for name in ("settings.yml", "alembic.ini"):
        shutil.copy(ROOT / name, folder / name)
    for name in ("migrations", "models", "seeds"):
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__")
            )
    return folder


def _chunks(rows: Iterator[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _runs(count: int, now: datetime) -> Iterator[dict]:
    rng = random.Random(SEED)
    for i in range(count):
        started = now - timedelta(minutes=53 * (count - i))
        status = rng.choices(["success", "failed", "crashed"], weights=[90, 9, 1])[0]
        yield {
            "id": f"run-{i:06d}",
            "started_at": started,
            "finished_at": started + timedelta(seconds=rng.uniform(20, 400)),
            "heartbeat_at": started,
            "status": status,
            "selection": None,
            "host": "bench",
            "pid": 1000 + i,
            "code_version": "0.1.0",
            "tasks_total": None,
        }


def task_names(tasks: int) -> list[str]:
    """The project's own task names first, so that the DAG page finds their long history, then
    ``task_NNN`` up to ``tasks`` names."""
    own = sorted(discover_path(ROOT, load_settings(ROOT / "settings.yml").project.models_dir))
    extra = (f"task_{t:03d}" for t in range(tasks))
    return (own + [name for name in extra if name not in own])[:tasks]


def _task_runs_sql(conn: Connection, tasks: int) -> str:
    """INSERT ... SELECT of every run crossed with its tasks, statuses spread by arithmetic on
    the run's pid (80% success, 15% skipped, 3% failed, 2% upstream failed): the server writes
    millions of rows without one of them crossing the driver."""
    names = task_names(tasks)
    numbers = " UNION ALL ".join(f"SELECT {t} AS n, '{names[t]}' AS task" for t in range(tasks))
    spread = "((r.pid * 19 + t.n * 29) % 100)"
    status = (
        f"CASE WHEN {spread} < 80 THEN 'success' WHEN {spread} < 95 THEN 'skipped' "
        f"WHEN {spread} < 98 THEN 'failed' ELSE 'upstream_failed' END"
    )
    if conn.dialect.name == "sqlite":
        begin = "strftime('%Y-%m-%d %H:%M:%S', r.started_at, '+' || (t.n * 4) || ' seconds')"
        end = "strftime('%Y-%m-%d %H:%M:%S', r.started_at, '+' || (t.n * 4 + 3) || ' seconds')"
        begin, end = f"{begin} || '.000000'", f"{end} || '.000000'"
        fingerprint = "substr('0000000000000000000000000000000000000000000000000000000000000000'"
        fingerprint += " || t.n, -64)"
    else:
        begin = "r.started_at + INTERVAL (t.n * 4) SECOND"
        end = "r.started_at + INTERVAL (t.n * 4 + 3) SECOND"
        fingerprint = "LPAD(t.n, 64, '0')"
    sql = (
        "INSERT INTO task_runs (run_id, task, attempt, status, reason, started_at, finished_at,"
        " duration_ms, error, fingerprint, rows_affected) "
        f"SELECT r.id, t.task, 1, {status}, "
        f"CASE WHEN {spread} BETWEEN 80 AND 94 THEN 'cached' END, {begin}, {end}, 3000, "
        f"CASE WHEN {spread} BETWEEN 95 AND 97 THEN 'ValueError: bench' END, "
        f"{fingerprint}, (r.pid * 7 + t.n * 13) % 10000 "
        f"FROM pipeline_runs r CROSS JOIN ({numbers}) t ORDER BY r.started_at, r.id, t.n"
    )
    # a driver with %s markers reads a lone % as one of them
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("%", "%%")


def _bulk(conn: Connection, target: str, rows: Iterator[dict]) -> None:
    """Insert through the driver's own executemany: the fastest path both dialects offer."""
    for chunk in _chunks(rows):
        names = list(chunk[0])
        marks = ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * len(names))
        quoted = ", ".join(conn.dialect.identifier_preparer.quote(name) for name in names)
        sql = f"INSERT INTO {target} ({quoted}) VALUES ({marks})"
        conn.exec_driver_sql(
            sql, [tuple(_value(conn, row[name]) for name in names) for row in chunk]
        )


def _value(conn: Connection, value: object) -> object:
    """SQLite stores times as SQLAlchemy writes them (microseconds always), so that they
    compare as strings with the dashboard's bounds."""
    if isinstance(value, datetime) and conn.dialect.name == "sqlite":
        return value.isoformat(" ", "microseconds")
    return value


def seed(engine: Engine, runs: int, tasks: int) -> None:
    """Runs through executemany, their task runs by one INSERT ... SELECT, then data checks
    (two per run), ingest objects (one per two runs) and an output table."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":  # a throwaway file: no journal, no fsync, no FK checks
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF"):
                conn.exec_driver_sql(f"PRAGMA {pragma}")
        else:
            conn.exec_driver_sql("SET foreign_key_checks = 0, unique_checks = 0")
        _bulk(conn, "pipeline_runs", _runs(runs, now))
        conn.exec_driver_sql(_task_runs_sql(conn, tasks))
        checks = (
            {
                "task_run_id": i,
                "name": "not_null(id)",
                "severity": "error",
                "status": "pass",
                "failing_rows": 0,
                "sample": None,
                "checked_at": now,
            }
            for i in range(1, 2 * runs + 1)
        )
        _bulk(conn, "check_results", checks)
        _bulk(conn, "etl_data_objects", (_object(i, now) for i in range(runs // 2)))
        conn.commit()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE events (id INTEGER, team VARCHAR(20), score FLOAT)")
        events = (
            {"id": i, "team": f"team {i % 97}", "score": i % 1000 / 10} for i in range(OUTPUT_ROWS)
        )
        _bulk(conn, "events", events)


def _object(i: int, now: datetime) -> dict:
    return {
        "id": f"{i:032x}",
        "model": "bench_model",
        "model_version": 1,
        "source_uri": f"data/inbox/file-{i}.csv",
        "content_hash": f"{i:064x}",
        "bytes": 1000 + i,
        "status": "loaded",
        "extract_status": "done",
        "transform_status": "done",
        "load_status": "done",
        "rows_read": 100,
        "rows_loaded": 99,
        "rows_rejected": 1,
        "raw_path": None,
        "target_table": "bench",
        "created_at": now,
        "updated_at": now - timedelta(seconds=i),
        "attempts": 1,
    }


def render(page: str, query: dict[str, str], repeat: int) -> list[float]:
    """Seconds to render ``page`` ``repeat`` times, each with an empty data cache (every query
    hits the database); fails loudly if the page raised. A first, untimed run does what a
    server does once at start-up (imports, the scan for custom components, the engine)."""
    app = AppTest.from_function(_app, args=(PACKAGE, page), default_timeout=300)
    app.query_params.update(query)
    app.run()
    set_log_level("error")  # after the run that read Streamlit's config
    times = []
    for _ in range(repeat):
        st.cache_data.clear()
        start = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - start)
        problems = [e.value for e in app.exception] + [e.value for e in app.error]
        if problems:
            raise SystemExit(f"page {page} failed: {problems}")
    return times


def naive_overview(engine: Engine) -> float:
    """The baseline: the ledger's columns the Overview needs into pandas, aggregated there."""
    start = time.perf_counter()
    runs = pd.read_sql("SELECT id, status, started_at FROM pipeline_runs", engine)
    task_runs = pd.read_sql("SELECT run_id, status FROM task_runs", engine)
    runs["started_at"] = pd.to_datetime(runs["started_at"])
    recent = runs[runs["started_at"] >= runs["started_at"].max() - pd.Timedelta(days=7)]
    (recent["status"] == "success").mean()
    task_runs.groupby(["run_id", "status"]).size()
    return time.perf_counter() - start


def cached_sqlite(root: Path, runs: int, tasks: int) -> str:
    """A seeded SQLite file, built once per size, seed and schema (the migrations' names and
    the models' source) under data/, and reused as long as those stay the same."""
    key = hashlib.sha256(f"{runs}/{tasks}/{SEED}/{OUTPUT_ROWS}/{task_names(tasks)}".encode())
    for source in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        key.update(source.name.encode())
    key.update((ROOT / "src" / PACKAGE / "db" / "models.py").read_bytes())
    path = ROOT / "data" / f"bench-dashboard-{key.hexdigest()[:16]}.db"
    url = f"sqlite:///{path}"
    if path.exists():
        print(f"SQLite: reusing {path.relative_to(ROOT)} (seeded earlier for this size)")
        return url
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    fill(root, f"sqlite:///{building}", runs, tasks)
    building.rename(path)  # only a complete file is ever reused
    return url


def fill(root: Path, url: str, runs: int, tasks: int) -> None:
    """Migrate an empty database to head and seed it, timed."""
    os.environ["DATABASE_URL"] = url
    upgrade(load_settings(root / "settings.yml"))
    engine = make_engine(url)
    start = time.perf_counter()
    seed(engine, runs, tasks)
    print(
        f"{engine.url.get_backend_name()}: seeded {runs:,} runs and {runs * tasks:,} task runs "
        f"in {time.perf_counter() - start:.1f} s"
    )
    engine.dispose()


def measure(url: str, runs: int, repeat: int) -> float:
    """Every page ``repeat`` times with a cold cache, then the baseline; the slowest render."""
    os.environ["DATABASE_URL"] = url
    backend = make_url(url).get_backend_name()
    query = {"run-detail": {"run": f"run-{runs // 2:06d}"}, "tables": {"table": "events"}}
    print(f"\n{backend}: {'page':<12} {'median (s)':>10} {'max (s)':>8}   goal < {GOAL_S} s")
    slowest = 0.0
    for page in PAGES:
        cold = render(page, query.get(page, {}), repeat)
        slowest = max(slowest, max(cold))
        verdict = "MET" if max(cold) < GOAL_S else "NOT MET"
        print(
            f"{backend}: {page:<12} {statistics.median(cold):>10.3f} {max(cold):>8.3f}   {verdict}"
        )
    engine = make_engine(url)
    baseline = naive_overview(engine)
    engine.dispose()
    st.cache_resource.clear()
    print(
        f"{backend}: baseline (the ledger's columns into pandas, aggregated there): "
        f"{baseline:.3f} s before drawing anything; slowest page {slowest:.3f} s "
        f"({baseline / slowest:.1f}x faster)"
    )
    return slowest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get(RUNS_ENV, 100_000)))
    parser.add_argument("--tasks", type=int, default=50, help="task runs per run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    set_log_level("error")  # AppTest's bare-mode warnings (a server has a runtime)
    print(f"load: {os.getloadavg()[0]:.2f} (1 min average)")
    slowest: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp))
        os.environ["PIPELINE_SETTINGS"] = str(root / "settings.yml")
        url = cached_sqlite(root, args.runs, args.tasks)
        slowest["sqlite"] = measure(url, args.runs, args.repeat)
        server = os.environ.get("MYSQL_URL")
        if not server:
            print("\nmariadb: skipped (set MYSQL_URL to a MySQL/MariaDB server to measure it)")
        else:
            for name, value in READONLY_DEFAULTS.items():  # as the dashboard reads a server
                os.environ.setdefault(f"MYSQL_READONLY_{name}", value)
            with fresh_server_database(server) as mysql:
                address = mysql.render_as_string(hide_password=False)
                fill(root, address, args.runs, args.tasks)
                slowest["mariadb"] = measure(address, args.runs, args.repeat)
    met = all(seconds < GOAL_S for seconds in slowest.values())
    shown = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in slowest.items())
    print(
        f"\ngoal (every page < {GOAL_S} s at {args.runs:,} runs; slowest: {shown}): "
        f"{'MET' if met else 'NOT MET'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
