"""Code-aware caching: unchanged tasks are skipped, edits re-run the task and its descendants."""

from __future__ import annotations

import importlib.util
import textwrap

from engine_support import (
    fingerprints_per_hash_seed,
    migrated,
    reload,
    run,
    task_rows,
    write_models,
)

from {{ cookiecutter.package_name }}.core.cache import normalised_source
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import TaskState

__all__ = ["migrated"]

CHAIN = """
    from {{ cookiecutter.package_name }}.core.task import Task

    @Task()
    def extract():
        return None

    @Task(depends_on=[extract])
    def transform():
        total = 1 + 1
        return None

    @Task(depends_on=[transform])
    def report():
        return None

    @Task()
    def unrelated():
        return None
"""


def states(report) -> dict[str, str]:
    return {name: state.value for name, state in report.tasks.items()}


def test_a_second_run_skips_every_unchanged_task_as_cached(migrated: Settings) -> None:
    write_models(migrated.root, CHAIN)
    run(migrated)
    second = run(migrated)
    assert set(states(second).values()) == {"skipped"}
    assert {r.reason for r in task_rows(migrated, second.run_id)} == {"cached"}


def test_comments_and_formatting_do_not_invalidate(migrated: Settings) -> None:
    write_models(migrated.root, CHAIN)
    run(migrated)
    edited = CHAIN.replace("total = 1 + 1", "total   =  1+1  # the same code\n\n")
    write_models(migrated.root, edited)
    assert set(states(run(migrated)).values()) == {"skipped"}


def test_a_code_edit_reruns_the_task_and_its_descendants_only(migrated: Settings) -> None:
    write_models(migrated.root, CHAIN)
    run(migrated)
    write_models(migrated.root, CHAIN.replace("total = 1 + 1", "total = 1 + 2"))
    assert states(run(migrated)) == {
        "extract": "skipped",
        "transform": "success",
        "report": "success",
        "unrelated": "skipped",
    }


def test_a_config_edit_reruns_that_task_and_its_descendants(migrated: Settings) -> None:
    write_models(migrated.root, CHAIN)
    run(migrated)
    path = migrated.root / "settings.yml"
    path.write_text(path.read_text().replace("tasks: {}", "tasks:\n  transform:\n    limit: 5\n"))
    assert states(run(reload(migrated))) == {
        "extract": "skipped",
        "transform": "success",
        "report": "success",
        "unrelated": "skipped",
    }


def test_an_upstream_code_edit_reruns_every_descendant(migrated: Settings) -> None:
    write_models(migrated.root, CHAIN)
    run(migrated)
    write_models(
        migrated.root,
        CHAIN.replace(
            "def extract():\n        return None", "def extract():\n        return 0 or None"
        ),
    )
    assert states(run(migrated)) == {
        "extract": "success",
        "transform": "success",
        "report": "success",
        "unrelated": "skipped",
    }


def test_full_refresh_runs_everything(migrated: Settings) -> None:
    write_models(migrated.root, CHAIN)
    run(migrated)
    assert set(states(run(migrated, full_refresh=True)).values()) == {"success"}


def test_a_task_whose_last_attempt_failed_reruns_even_with_old_code(migrated: Settings) -> None:
    write_models(migrated.root, CHAIN)
    run(migrated)
    write_models(migrated.root, CHAIN.replace("total = 1 + 1", "raise RuntimeError('x')"))
    assert run(migrated).tasks["transform"] == TaskState.FAILED
    write_models(migrated.root, CHAIN)
    third = run(migrated)
    assert third.tasks["transform"] == TaskState.SUCCESS
    assert third.reasons["transform"] == "due: last attempt ended failed"


def test_an_upstream_run_in_a_separate_run_makes_children_due(migrated: Settings) -> None:
    write_models(migrated.root, CHAIN)
    run(migrated)
    run(migrated, select=["extract"], full_refresh=True)
    third = run(migrated)
    assert states(third)["transform"] == "success"
    assert third.reasons["transform"] == "due: upstream 'extract' has new data"


def load_function(folder, module: str, source: str):
    path = folder / f"{module}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(module, path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded.f


def test_docstring_decorators_comments_and_layout_do_not_count(tmp_path) -> None:
    plain = load_function(tmp_path, "plain", "def f(x):\n    return x + 1\n")
    dressed = load_function(
        tmp_path,
        "dressed",
        """
        def keep(func):
            return func

        @keep
        def f(x):
            \"\"\"Add one.\"\"\"
            # a comment
            return (x +
                    1)
        """,
    )
    assert normalised_source(plain) == normalised_source(dressed)


def test_a_changed_operator_changes_the_normalised_source(tmp_path) -> None:
    plus = load_function(tmp_path, "plus", "def f(x):\n    return x + 1\n")
    minus = load_function(tmp_path, "minus", "def f(x):\n    return x - 1\n")
    assert normalised_source(plus) != normalised_source(minus)


def test_fingerprints_are_the_same_under_any_hash_seed(project) -> None:
    write_models(project, CHAIN)
    outputs = fingerprints_per_hash_seed(project)
    assert len(outputs) == 1 and "transform" in outputs.pop()
