"""The crash-point matrix: every named crash point x {SIGKILL, SIGINT, raised exception}.

A project is built at version 1, then rebuilt at version 2 by the real command line, which
dies at the crash point. Afterwards every target is wholly version 1 or wholly version 2, the
stage is one version, and `run --resume` finishes the job without re-running any task the
crashed run recorded as successful, leaving no shadow table behind.
"""

from __future__ import annotations

import re

import pytest
from audit_support import MODELS, Database, configure, write_project
from engine_support import SRC, migrated, reload, run, run_rows, start_cli, task_rows
from faults_support import (
    PACKAGE,
    STAGE,
    TARGETS,
    counts,
    leftovers,
    set_version,
    staged_project,
    versions,
)

from {{ cookiecutter.package_name }}.faults import CRASH_ACTION_ENV, CRASH_AT_ENV
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]
pytestmark = [pytest.mark.faults, pytest.mark.slow]

POINTS = [
    "runner.before_attempt",
    "runner.after_success",
    "runner.before_finish",
    "materialize.after_build",
    "materialize.after_audit",
    "materialize.before_swap",
    "materialize.after_swap",
    "materialize.incremental_before_insert",
    "stage.before_publish",
    "stage.after_publish",
]
# reached only when a check refuses a build (the matrix's builds pass their checks)
REJECT_POINTS = ["materialize.after_audit", "materialize.before_reject"]
# action -> (exit code of the crashed command, states its run may be recorded with)
ACTIONS = {
    "kill": (-9, {"crashed"}),
    "interrupt": (130, {"cancelled", "crashed"}),
    "raise": (1, {"crashed", "failed"}),
}


def test_the_matrix_covers_every_crash_point_of_a_run() -> None:
    # a run's code: the runner (core/), the materializer and the stage publisher (sql/)
    named = set()
    for folder in ("core", "sql"):
        for path in (SRC / PACKAGE / folder).rglob("*.py"):
            named |= set(re.findall(r"crash_point\(\"([a-z_.]+)\"\)", path.read_text()))
    assert named == set(POINTS) | set(REJECT_POINTS)


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("point", POINTS)
def test_a_crash_leaves_targets_whole_and_resume_finishes_the_run(
    migrated: Settings, point: str, action: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged_project(migrated)
    set_version(migrated, 1)
    assert run(reload(migrated)).status == "success"
    set_version(migrated, 2)
    before = counts(migrated.root)

    with monkeypatch.context() as armed:
        armed.setenv(CRASH_AT_ENV, point)
        armed.setenv(CRASH_ACTION_ENV, action)
        process = start_cli(migrated, "run")
    _, stderr = process.communicate(timeout=120)
    code, states = ACTIONS[action]
    assert process.returncode == code, stderr
    _assert_whole(versions(reload(migrated)))

    resumed = run(reload(migrated), resume=True)
    assert resumed.status == "success", resumed.errors
    first_crashed = run_rows(migrated)[1]
    assert first_crashed.status in states
    succeeded = {r.task for r in task_rows(migrated, first_crashed.id) if r.status == "success"}
    after = counts(migrated.root)
    again = {name for name in succeeded if after.get(name, 0) > before.get(name, 0) + 1}
    assert not again, f"resume re-ran tasks that had succeeded: {sorted(again)}"
    assert versions(migrated) == {name: 2 for name in TARGETS}
    assert leftovers(migrated) == []


def _assert_whole(found: dict[str, int | None]) -> None:
    broken = {name: version for name, version in found.items() if version is None}
    assert not broken, f"tables neither wholly old nor wholly new: {broken}"
    assert len({found[name] for name in STAGE}) == 1, f"the stage is a mix: {found}"


@pytest.mark.parametrize("form", ["table", "view", "incremental"])
@pytest.mark.parametrize("point", REJECT_POINTS)
def test_a_kill_while_a_refused_build_is_audited_leaves_the_table_and_no_leftovers(
    migrated: Settings, point: str, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(migrated, MODELS, "[row_count(max=8)]")
    good = {"lo": 1, "hi": 5, "materialize": form, "unique_key": "id"}
    assert run(configure(migrated, team_report=good)).status == "success"
    db = Database(migrated)
    try:
        before = db.rows("team_report")
        configure(migrated, team_report={**good, "hi": 12})  # refused: 12 rows
        with monkeypatch.context() as armed:
            armed.setenv(CRASH_AT_ENV, point)
            armed.setenv(CRASH_ACTION_ENV, "kill")
            process = start_cli(migrated, "run")
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == -9, stderr
        assert db.rows("team_report") == before
        db.wait_for_the_lock()

        assert run(configure(migrated, team_report={**good, "hi": 7})).status == "success"
        assert len(db.rows("team_report")) == 7
        assert leftovers(migrated) == []
        assert not db.exists("team_report__rejected")
    finally:
        db.engine.dispose()
