"""Discovery and the DAG: every definition problem reported at once, selectors, drawings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from engine_support import write_models

from {{ cookiecutter.package_name }}.core.dag import Dag
from {{ cookiecutter.package_name }}.core.discovery import discover_path
from {{ cookiecutter.package_name }}.core.scheduler import ReadyQueue
from {{ cookiecutter.package_name }}.core.task import Task
from {{ cookiecutter.package_name }}.errors import CycleError, DefinitionError

HEADER = "from {{ cookiecutter.package_name }}.core.task import Task\n"


def make(tmp_path: Path, *modules: tuple[str, str]) -> dict[str, Task]:
    for name, body in modules:
        write_models(tmp_path, HEADER + body, module=name)
    return discover_path(tmp_path)


def problems_of(tmp_path: Path, *modules: tuple[str, str]) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        Dag.from_tasks(make(tmp_path, *modules), root=tmp_path)
    return caught.value.problems


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "@Task(depends_on=['clean_order'])\ndef load(): pass\n"
            "@Task()\ndef clean_orders(): pass\n",
            r"task 'load' \(models/a.py:2\) depends on 'clean_order', which is not a task; "
            r"did you mean 'clean_orders'\?",
        ),
        (
            "def helper(): pass\n@Task(depends_on=[helper])\ndef load(): pass\n",
            r"depends on 'helper', which is not a task \(decorate it with @Task\(\)\)",
        ),
        ("@Task(depends_on=['load'])\ndef load(): pass\n", r"task 'load' .* depends on itself"),
        (
            "@Task()\ndef load(): pass\n@Task(load)\ndef report(): pass\n",
            r"models/a.py:4: .*TypeError: depends_on takes a list of tasks or names",
        ),
        ("@Task(retry=-1)\ndef load(): pass\n", r"retry must be a whole number >= 0, got -1"),
        ("@Task(ttl_minutes=0)\ndef load(): pass\n", r"ttl_minutes must be a number > 0, got 0"),
        ("@Task(runs_on='monthly')\ndef load(): pass\n", r"runs_on must be a schedule"),
        ("@Task(timeout=-5)\ndef load(): pass\n", r"timeout must be seconds > 0, got -5"),
    ],
)
def test_each_definition_problem_has_a_clear_message(tmp_path: Path, body: str, message: str):
    (problem,) = problems_of(tmp_path, ("a", body))
    assert re.search(message, problem), problem


def test_a_name_defined_twice_lists_both_places(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as caught:
        make(
            tmp_path, ("a", "\n\n@Task()\ndef load(): pass\n"), ("b", "@Task()\ndef load(): pass\n")
        )
    assert caught.value.problems == [
        "'load' is defined twice: models/a.py:4 and models/b.py:2; rename one of them "
        "(or give it @Task(name=...))"
    ]


def test_a_module_that_fails_to_import_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"models/a.py:3: importing models.a failed: "):
        make(tmp_path, ("a", "x = 1\nraise ImportError('no such thing')\n"))


def test_a_cycle_is_printed_in_run_order(tmp_path: Path) -> None:
    body = (
        "@Task(depends_on=['c'])\ndef a(): pass\n"
        "@Task(depends_on=[a])\ndef b(): pass\n"
        "@Task(depends_on=[b])\ndef c(): pass\n"
    )
    with pytest.raises(CycleError) as caught:
        Dag.from_tasks(make(tmp_path, ("m", body)))
    assert str(caught.value) == "1 problem in models/:\n  cycle: a -> b -> c -> a"
    assert caught.value.cycle == ["a", "b", "c", "a"]


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    body = (
        "@Task(depends_on=['b'])\ndef a(): pass\n"
        "@Task(depends_on=[a])\ndef b(): pass\n"
        "@Task(depends_on=['nope'], retry='x')\ndef c(): pass\n"
    )
    problems = problems_of(tmp_path, ("m", body))
    assert len(problems) == 3
    assert "cycle: a -> b -> a" in problems


CHAIN_AND_TAGS = (
    "@Task(tags=['staging'])\ndef stg_a(): pass\n"
    "@Task(tags=['staging'])\ndef stg_b(): pass\n"
    "@Task(depends_on=[stg_a, stg_b], tags=['marts'])\ndef mart(): pass\n"
    "@Task(depends_on=[mart])\ndef report(): pass\n"
)


@pytest.mark.parametrize(
    ("select", "exclude", "expected"),
    [
        ([], [], ["stg_a", "stg_b", "mart", "report"]),
        (["mart"], [], ["mart"]),
        (["mart+"], [], ["mart", "report"]),
        (["+mart"], [], ["stg_a", "stg_b", "mart"]),
        (["stg_a+"], [], ["stg_a", "mart", "report"]),
        (["tag:staging"], [], ["stg_a", "stg_b"]),
        (["stg_*"], [], ["stg_a", "stg_b"]),
        (["stg_a report"], [], ["stg_a", "report"]),
        ([], ["tag:staging"], ["mart", "report"]),
        (["+report"], ["stg_b"], ["stg_a", "mart", "report"]),
    ],
)
def test_selectors(tmp_path: Path, select, exclude, expected) -> None:
    dag = Dag.from_tasks(make(tmp_path, ("m", CHAIN_AND_TAGS)))
    assert dag.select(select, exclude) == expected


def test_a_selector_matching_nothing_is_an_error_with_a_hint(tmp_path: Path) -> None:
    dag = Dag.from_tasks(make(tmp_path, ("m", CHAIN_AND_TAGS)))
    with pytest.raises(DefinitionError) as caught:
        dag.select(["marts+", "tag:nope"])
    assert caught.value.problems == [
        "--select 'marts+' matches no task; did you mean 'mart'?",
        "--select 'tag:nope' matches no task; known tags: marts, staging",
    ]


def test_the_order_is_topological_and_ties_are_broken_by_name(tmp_path: Path) -> None:
    dag = Dag.from_tasks(make(tmp_path, ("m", CHAIN_AND_TAGS)))
    assert dag.names == ["stg_a", "stg_b", "mart", "report"]
    assert dag.upstream("mart") == ("stg_a", "stg_b")
    assert dag.downstream("stg_a") == ("mart",)


def test_the_ready_queue_releases_a_task_the_moment_its_parents_are_done() -> None:
    # a -> b, a -> c, b -> d: d must not wait for c (no "levels")
    ready = ReadyQueue({"a": (), "b": ("a",), "c": ("a",), "d": ("b",)})
    assert ready.take_ready() == ["a"]
    ready.succeeded("a")
    assert ready.take_ready() == ["b", "c"]
    ready.succeeded("b")
    assert ready.take_ready() == ["d"]


def test_pydwt_level_bug_is_absent_a_to_b_and_a_b_to_c_runs_c() -> None:
    ready = ReadyQueue({"a": (), "b": ("a",), "c": ("a", "b")})
    order = []
    while batch := ready.take_ready():
        for name in batch:
            order.append(name)
            ready.succeeded(name)
    assert order == ["a", "b", "c"]


def test_dot_and_mermaid_colour_nodes_by_state(tmp_path: Path) -> None:
    dag = Dag.from_tasks(make(tmp_path, ("m", CHAIN_AND_TAGS)))
    dot = dag.to_dot({"mart": "failed"})
    assert '"stg_a" -> "mart";' in dot
    assert '"mart" [label="mart\\n(failed)", fillcolor="#f4a3a3"];' in dot
    mermaid = dag.to_mermaid({"mart": "failed"})
    assert mermaid.startswith("flowchart LR\n")
    assert "classDef failed fill:#f4a3a3" in mermaid and "class t2 failed" in mermaid


def test_a_task_stays_directly_callable(tmp_path: Path) -> None:
    tasks = make(tmp_path, ("m", "@Task(retry=2)\ndef add(a, b):\n    return a + b\n"))
    assert tasks["add"](2, 3) == 5
    assert tasks["add"].retry == 2 and tasks["add"].name == "add"
