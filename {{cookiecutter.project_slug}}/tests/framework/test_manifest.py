"""``manifest``: the DAG as JSON that is byte-identical for the same code, wherever it lives."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from engine_support import PACKAGE, SRC
from state_support import base_version, head_version, manifest_of

from {{ cookiecutter.package_name }}.core.cache import fingerprints
from {{ cookiecutter.package_name }}.core.manifest import dump_manifest, parse_manifest
from {{ cookiecutter.package_name }}.core.runner import load_dag
from {{ cookiecutter.package_name }}.settings import Settings, load_settings


@pytest.fixture
def sqlite_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test project on its default SQLite file."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PIPELINE_SETTINGS", raising=False)
    return load_settings(project / "settings.yml")


def manifest_cli(root: Path, *args: str, seed: str = "0") -> subprocess.CompletedProcess[str]:
    """``python -m <package> manifest`` run from ``root`` in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PIPELINE_SETTINGS")}
    env.update(PYTHONPATH=str(SRC), PYTHONHASHSEED=seed)
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, "manifest", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_manifest_is_byte_identical_across_runs_and_path_layouts(
    sqlite_project: Settings, tmp_path: Path
) -> None:
    base_version(sqlite_project)
    elsewhere = tmp_path / "another" / "machine" / "checkout"
    shutil.copytree(sqlite_project.root, elsewhere)
    first = manifest_cli(sqlite_project.root, seed="0")
    second = manifest_cli(sqlite_project.root, seed="1")
    moved = manifest_cli(elsewhere, seed="12345")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout == moved.stdout
    assert str(tmp_path) not in first.stdout
    assert first.stdout == dump_manifest(json.loads(first.stdout))  # sorted keys, canonical


def test_out_writes_the_same_bytes_as_stdout(sqlite_project: Settings, tmp_path: Path) -> None:
    base_version(sqlite_project)
    target = tmp_path / "manifest.json"
    written = manifest_cli(sqlite_project.root, "--out", str(target))
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert target.read_text(encoding="utf-8") == manifest_cli(sqlite_project.root).stdout


def test_each_task_lists_where_it_is_what_it_needs_and_what_it_promises(
    sqlite_project: Settings,
) -> None:
    settings = head_version(sqlite_project)
    tasks = parse_manifest(dump_manifest(manifest_of(settings)))["tasks"]
    assert sorted(tasks) == ["audited", "extract", "fresh", "report", "transform", "unrelated"]
    report = tasks["report"]
    assert report["location"] == "models/pipeline.py:13"
    assert report["depends_on"] == ["transform"]
    assert report["tags"] == ["marts"]
    assert report["schedule"] == "daily"
    assert report["materialization"] == "table"
    assert set(report["parts"]) == {"code", "config", "checks", "upstream"}
    assert tasks["audited"]["checks"] == ['{"row_count": {"min": 1}}']


def test_the_fingerprint_is_the_one_the_engine_caches_on(sqlite_project: Settings) -> None:
    settings = head_version(sqlite_project)
    engine_prints = fingerprints(load_dag(settings), settings.task_config)
    tasks = manifest_of(settings)["tasks"]
    assert {name: task["fingerprint"] for name, task in tasks.items()} == engine_prints


def test_a_file_that_is_not_a_manifest_is_refused() -> None:
    with pytest.raises(ValueError, match="not a pipeline manifest"):
        parse_manifest('{"nodes": []}')
