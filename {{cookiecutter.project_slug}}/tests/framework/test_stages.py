"""Stages: the tables of a stage are published together when all its tasks succeed, never in
part; readers outside the stage start only once it is published."""

from __future__ import annotations

import pytest
from engine_support import migrated, reload, run, task_rows, write_models
from faults_support import (
    STAGED_PIPELINE,
    leftovers,
    rows_of,
    set_version,
    staged_project,
    versions,
)

from {{ cookiecutter.package_name }}.core.stages import StageRun, shadow_name
from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.errors import DefinitionError
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]

FAILING_M2 = STAGED_PIPELINE.replace(
    '        bump("m2")\n', '        bump("m2")\n        raise RuntimeError("m2 is broken")\n'
)

SEES_THE_STAGE = STAGED_PIPELINE + """

    @Task(depends_on=[m1])
    def reader(session):
        # m2 is not an upstream task, yet the whole stage is published before this runs
        row = session.sql("SELECT MAX(m1.w) AS a, MAX(m2.w) AS b FROM m1, m2").collect()[0]
        (COUNTS.parent / "seen").write_text(f"{row['a']} {row['b']}")
"""


def rows_of_table(settings: Settings, table: str) -> set | None:
    engine = make_engine(settings.database_url)
    try:
        return rows_of(engine, table)
    finally:
        engine.dispose()


def _staged(settings: Settings, source: str = STAGED_PIPELINE) -> None:
    staged_project(settings)
    write_models(settings.root, source)


def test_a_stage_publishes_every_table_at_the_new_version(migrated: Settings) -> None:
    _staged(migrated)
    set_version(migrated, 1)
    assert run(reload(migrated)).status == "success"
    set_version(migrated, 2)
    report = run(reload(migrated))
    assert report.status == "success", report.errors
    assert versions(migrated) == {"m1": 2, "m2": 2, "solo": 2, "tally": 2, "report": 2}
    assert leftovers(migrated) == []


def test_a_failed_task_publishes_nothing_of_its_stage(migrated: Settings) -> None:
    _staged(migrated)
    set_version(migrated, 1)
    assert run(reload(migrated)).status == "success"
    set_version(migrated, 2)
    write_models(migrated.root, FAILING_M2)
    report = run(reload(migrated))

    assert report.status == "failed"
    assert versions(migrated) == {"m1": 1, "m2": 1, "solo": 2, "tally": 2, "report": 1}
    states = {r.task: (r.status, r.reason) for r in task_rows(migrated, report.run_id)}
    assert states["m1"] == ("cancelled", "discarded: stage 'marts' was not published ('m2' failed)")
    assert states["report"] == ("upstream_failed", "upstream 'm2' failed")
    assert leftovers(migrated) == []


def test_a_task_reading_one_table_of_a_stage_waits_for_the_whole_stage(
    migrated: Settings,
) -> None:
    _staged(migrated, SEES_THE_STAGE)
    set_version(migrated, 1)
    assert run(reload(migrated)).status == "success"
    set_version(migrated, 2)
    assert run(reload(migrated), workers=4).status == "success"
    # version 2: max(m1.w) = 5 * 2 and max(m2.w) = 5 + 2, both new
    assert (migrated.root / "seen").read_text() == "10 7"


INSIDE_THE_STAGE = STAGED_PIPELINE.replace(
    """    @Task(stage="marts")
    def m2(session, config):
        bump("m2")
        df = session.table("seed")
        return df.with_column("w", df.v + config["version"])""",
    """    @Task(stage="marts", depends_on=[m1])
    def m2(session, config):
        bump("m2")
        return session.table("m1")""",
)


def test_a_task_reads_the_new_tables_of_its_own_stage_before_they_are_published(
    migrated: Settings,
) -> None:
    _staged(migrated, INSIDE_THE_STAGE)
    set_version(migrated, 1)
    assert run(reload(migrated)).status == "success"
    set_version(migrated, 2)
    assert run(reload(migrated)).status == "success"
    # m2 copies m1: read from m1's shadow, it holds version 2 (the published m1 was version 1)
    assert rows_of_table(migrated, "m2") == {(v, v * 2) for v in range(1, 6)}


def test_the_stages_block_of_settings_puts_tasks_in_a_stage(migrated: Settings) -> None:
    _staged(migrated, STAGED_PIPELINE.replace('@Task(stage="marts")', "@Task()"))
    path = migrated.root / "settings.yml"
    set_version(migrated, 1)
    path.write_text(path.read_text() + "\nstages:\n  marts: [m1, m2]\n")
    assert run(reload(migrated)).status == "success"
    set_version(migrated, 2)  # the stages block stays
    write_models(migrated.root, FAILING_M2.replace('@Task(stage="marts")', "@Task()"))
    run(reload(migrated))
    assert versions(migrated, ["m1", "m2"]) == {"m1": 1, "m2": 1}


def test_a_stages_block_naming_an_unknown_task_is_refused(migrated: Settings) -> None:
    _staged(migrated)
    path = migrated.root / "settings.yml"
    set_version(migrated, 1)
    path.write_text(path.read_text() + "\nstages:\n  marts: [m1, nope]\n")
    with pytest.raises(DefinitionError, match="stages.marts names 'nope', which is not a task"):
        run(reload(migrated))


def test_a_staged_view_is_refused_before_anything_runs(migrated: Settings) -> None:
    _staged(migrated)
    set_version(migrated, 1)
    path = migrated.root / "settings.yml"
    path.write_text(path.read_text().replace("  m1:\n", "  m1:\n    materialize: view\n"))
    with pytest.raises(DefinitionError, match="task 'm1' is in stage 'marts' but materializes"):
        run(reload(migrated))
    assert task_rows(migrated) == []


def test_a_task_outside_a_stage_that_feeds_it_and_reads_it_is_a_cycle() -> None:
    stages = StageRun({"a": "s", "b": "s"}, ["a", "x", "b"], publish=lambda names: names)
    with pytest.raises(DefinitionError, match="stages form a cycle"):
        stages.upstream({"a": [], "x": ["a"], "b": ["x"]})


def test_a_staged_table_is_built_under_its_shadow_name() -> None:
    stages = StageRun({"a": "s"}, ["a", "x"], publish=lambda names: names)
    assert (stages.target("a"), stages.target("x")) == (shadow_name("a"), None)
    assert shadow_name("a") == "a__pl_stage"
