"""A task's ancestors as its attempt sees them (``Ancestry``): walked only when asked, yet the
same set ``Dag.ancestors`` gives, in this process and pickled for another one."""

from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st

from {{ cookiecutter.package_name }}.core.dag import Dag
from {{ cookiecutter.package_name }}.core.lineage import Ancestry, undeclared_reads
from {{ cookiecutter.package_name }}.core.task import Task


def noop() -> None:
    return None


@st.composite
def dags(draw: st.DrawFn) -> Dag:
    size = draw(st.integers(min_value=1, max_value=15))
    tasks: dict[str, Task] = {}
    for i in range(size):
        ups = draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set()
        deps = [tasks[f"t{p}"] for p in sorted(ups)]
        tasks[f"t{i}"] = Task(name=f"t{i}", depends_on=deps)(noop)
    return Dag.from_tasks(tasks)


@given(dags(), st.data())
def test_ancestry_is_the_set_of_ancestors(dag: Dag, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(dag.names))
    plain = dag.ancestors(name)
    lazy = Ancestry(dag, name)
    assert {other for other in dag.names if other in lazy} == plain
    assert set(lazy) == plain and len(lazy) == len(plain)
    copy = pickle.loads(pickle.dumps(lazy))
    assert type(copy) is frozenset and copy == plain


@given(dags(), st.data())
def test_undeclared_reads_are_the_same_with_the_lazy_ancestry(
    dag: Dag, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(dag.names))
    reads = data.draw(st.sets(st.sampled_from([*dag.names, "elsewhere"])))
    writers = {other: other for other in dag.names}
    plain = undeclared_reads(name, reads, writers, frozenset(dag.ancestors(name) | {name}))
    assert undeclared_reads(name, reads, writers, Ancestry(dag, name)) == plain


def test_ancestry_walks_nothing_until_asked() -> None:
    tasks: dict[str, Task] = {}
    for i in range(3):
        tasks[f"t{i}"] = Task(name=f"t{i}", depends_on=list(tasks.values())[-1:])(noop)
    dag = Dag.from_tasks(tasks)
    walks: list[str] = []
    ancestors = dag.ancestors
    dag.ancestors = lambda name: walks.append(name) or ancestors(name)  # type: ignore[method-assign]
    lazy = Ancestry(dag, "t2")
    assert walks == []
    assert undeclared_reads("t2", ["t2", "other_table"], {"t2": "t2"}, lazy) is None
    assert walks == []  # no table of another task was read
    assert "t0" in lazy and walks == ["t2"]


@given(dags(), st.data())
def test_the_ancestry_of_one_task_equals_itself_and_its_set(dag: Dag, data: st.DataObject) -> None:
    """The Dask executor adopts a call submitted ahead only if it equals the engine's own."""
    name = data.draw(st.sampled_from(dag.names))
    first, again = Ancestry(dag, name), Ancestry(dag, name)
    assert first == again and hash(first) == hash(again)
    assert first == frozenset(dag.ancestors(name)) and frozenset(dag.ancestors(name)) == first
    others = [other for other in dag.names if dag.ancestors(other) != dag.ancestors(name)]
    if others:
        assert first != Ancestry(dag, others[0])
