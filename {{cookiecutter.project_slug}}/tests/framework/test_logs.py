"""Log lines: UTC ISO 8601 times whatever the machine's time zone, the run id on each line of a
run, and ``LOG_FORMAT=json`` for log shippers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from engine_support import PACKAGE, cli_env, migrated, write_models

from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]

MODELS = """
    import logging

    from {{ cookiecutter.package_name }}.core.task import Task

    @Task()
    def extract():
        logging.getLogger("pipeline.models").info("extracting")

    @Task(depends_on=[extract])
    def load():
        pass
"""
STAMP = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z"


def cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The CLI in a time zone 10 hours from UTC, with ``env`` added to its environment."""
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        cwd=settings.root,
        env={**cli_env(settings), "TZ": "Pacific/Honolulu", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_log_lines_are_utc_iso_8601_whatever_the_local_time_zone(migrated: Settings) -> None:
    write_models(migrated.root, MODELS)
    result = cli(migrated, "run")
    assert result.returncode == 0, result.stderr
    stamps = re.findall(rf"^{STAMP} ", result.stderr, re.M)
    assert stamps, result.stderr
    now = datetime.now(UTC).replace(tzinfo=None)
    for stamp in stamps:
        assert abs(datetime.fromisoformat(stamp) - now) < timedelta(minutes=5), stamp


def test_every_line_of_a_run_names_the_run_even_from_a_task(migrated: Settings) -> None:
    write_models(migrated.root, MODELS)
    result = cli(migrated, "run")
    run_id = re.search(r"run (\S+) started", result.stderr).group(1)
    lines = [line for line in result.stderr.splitlines() if re.match(STAMP, line)]
    assert any("extracting" in line for line in lines), result.stderr
    assert all(f"[{run_id}]" in line for line in lines), result.stderr


def test_log_format_json_writes_one_object_a_line(migrated: Settings) -> None:
    write_models(migrated.root, MODELS)
    result = cli(migrated, "run", LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {"extracting", "task load success"} <= {entry["message"] for entry in entries}
    run_ids = {entry["run_id"] for entry in entries if entry["message"] == "extracting"}
    assert len(run_ids) == 1 and None not in run_ids
    assert all(re.fullmatch(STAMP, entry["time"]) for entry in entries)
    assert {entry["level"] for entry in entries} <= {"INFO", "WARNING", "ERROR"}


def test_an_unknown_log_format_is_refused_in_one_line(migrated: Settings) -> None:
    result = cli(migrated, "list", LOG_FORMAT="xml")
    assert result.returncode == 2
    assert "LOG_FORMAT" in result.stderr and "plain, json" in result.stderr
    assert "Traceback" not in result.stderr
