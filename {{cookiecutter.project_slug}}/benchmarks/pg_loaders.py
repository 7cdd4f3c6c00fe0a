"""The PostgreSQL side of the ingest benchmark: a scratch database, our ``ingest`` command and
psql's ``\\copy`` of the same file, each timed from start to exit as a user would see them.

psql gets the password through ``PGPASSWORD``, never on its command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from {{ cookiecutter.package_name }}.testing.database import fresh_server_database

PACKAGE = "{{ cookiecutter.package_name }}"
SRC = Path(__file__).resolve().parents[1] / "src"


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A scratch ``test_*`` database on the server (its URL, with the password), dropped after."""
    with fresh_server_database(server_url) as url:
        yield url.render_as_string(hide_password=False)


def ingest_command(csv_path: Path, url: str, root: Path, model: str) -> dict[str, float]:
    """``python -m <package> ingest rows`` on a migrated project (the migration untimed)."""
    models = root / "models"
    models.mkdir(exist_ok=True)
    (models / "rows.py").write_text(model.format(csv=str(csv_path)), encoding="utf-8")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PIPELINE_SETTINGS": str(root / "settings.yml"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    # As in everyday use, imports come from the bytecode cache (the untimed migration fills it).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", PACKAGE]
    subprocess.run([*command, "migrate"], cwd=root, env=env, check=True, capture_output=True)
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(
            [*command, "ingest", "rows"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"the ingest command failed:\n{errors.read().decode()[-3000:]}")
    return {
        "seconds": elapsed,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rows": _count(url, "rows"),
        "peak_mb": usage.ru_maxrss / 1024,
    }


def psql_copy(csv_path: Path, url: str, columns: str) -> dict[str, float]:
    """psql's ``\\copy`` of the CSV into a typed table (created untimed)."""
    psql = shutil.which("psql")
    if psql is None:
        raise SystemExit("psql is not installed: apt-get install -y postgresql-client")
    target = make_url(url)
    env = {**os.environ, "PGPASSWORD": target.password or ""}
    parts = {"host": target.host, "port": target.port, "dbname": target.database}
    libpq = " ".join(f"{key}={value}" for key, value in parts.items() if value)
    libpq += f" user={target.username}" if target.username else ""
    run = [psql, libpq, "--quiet", "-v", "ON_ERROR_STOP=1", "-c"]
    subprocess.run([*run, f"CREATE TABLE rows_copy ({columns})"], env=env, check=True)
    start = time.perf_counter()
    subprocess.run(
        [*run, f"\\copy rows_copy FROM '{csv_path}' WITH (FORMAT csv, HEADER)"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "cpu": 0.0, "rows": _count(url, "rows_copy"), "peak_mb": 0.0}


def _count(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()
