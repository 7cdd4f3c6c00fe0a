"""``diff``: added, removed and modified tasks and what runs downstream of them, as Markdown
(a Mermaid graph and a table), Mermaid alone and JSON; the Mermaid is parsed back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from engine_support import cli
from state_support import at_head, manifest_of

from {{ cookiecutter.package_name }}.core.diff import diff_manifests, to_markdown, to_mermaid
from {{ cookiecutter.package_name }}.settings import Settings

NODE = re.compile(r'^\s*(\w+)\["([^"]+)"\]:::(\w+)$')
EDGE = re.compile(r"^\s*(\w+) --> (\w+)$")
CLASSDEF = re.compile(r"^\s*classDef (\w+) ")


def parse_mermaid(text: str) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """Nodes (label -> class) and edges (label pairs) of a ``graph LR``; any other line fails."""
    lines = text.strip().splitlines()
    assert lines[0] == "graph LR"
    ids: dict[str, str] = {}
    nodes: dict[str, str] = {}
    edges: set[tuple[str, str]] = set()
    classes: set[str] = set()
    for line in lines[1:]:
        if found := CLASSDEF.match(line):
            classes.add(found[1])
        elif found := NODE.match(line):
            ids[found[1]] = found[2]
            nodes[found[2]] = found[3]
        elif found := EDGE.match(line):
            edges.add((ids[found[1]], ids[found[2]]))
        else:
            raise AssertionError(f"not a node, edge or classDef: {line!r}")
    assert set(nodes.values()) <= classes
    return nodes, edges


@pytest.fixture
def changed(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, Path]:
    return at_head(project, tmp_path, monkeypatch)


EXPECTED_NODES = {
    "fresh": "new",
    "transform": "modified",
    "unrelated": "modified",
    "audited": "modified",
    "report": "downstream",
    "legacy": "removed",
}
EXPECTED_EDGES = {("transform", "report")}


def test_mermaid_holds_exactly_the_affected_tasks_and_their_edges(
    changed: tuple[Settings, Path],
) -> None:
    settings, state = changed
    done = cli(settings, "diff", "--state", str(state), "--format", "mermaid")
    assert done.returncode == 0, done.stderr
    nodes, edges = parse_mermaid(done.stdout)
    assert nodes == EXPECTED_NODES
    assert edges == EXPECTED_EDGES


def test_removed_tasks_keep_their_edges_to_affected_ones(changed: tuple[Settings, Path]) -> None:
    settings, state = changed
    base = json.loads(state.read_text(encoding="utf-8"))
    base["tasks"]["fresh"] = {**base["tasks"]["legacy"], "name": "fresh"}  # now changed
    base["tasks"]["fresh"]["depends_on"] = ["legacy"]
    nodes, edges = parse_mermaid(to_mermaid(diff_manifests(base, manifest_of(settings))))
    assert nodes["fresh"] == "modified"
    assert ("legacy", "fresh") in edges


def test_markdown_has_the_summary_graph_and_one_table_row_per_task(
    changed: tuple[Settings, Path],
) -> None:
    settings, state = changed
    done = cli(settings, "diff", "--state", str(state))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("### Pipeline impact\n")
    assert "**1** new, **3** modified, **1** downstream, **1** removed." in text
    graph = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert parse_mermaid(graph) == (EXPECTED_NODES, EXPECTED_EDGES)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows == [
        "| `fresh` | new | added | `models/pipeline.py:25` |",
        "| `audited` | modified | checks | `models/pipeline.py:21` |",
        "| `transform` | modified | code | `models/pipeline.py:8` |",
        "| `unrelated` | modified | config | `models/pipeline.py:17` |",
        "| `legacy` | removed | deleted | `models/pipeline.py:25` |",
        "| `report` | downstream | upstream | `models/pipeline.py:13` |",
    ]


def test_json_lists_each_kind(changed: tuple[Settings, Path]) -> None:
    settings, state = changed
    done = cli(settings, "diff", "--state", str(state), "-f", "json")
    assert json.loads(done.stdout) == {
        "new": ["fresh"],
        "modified": {"audited": ["checks"], "transform": ["code"], "unrelated": ["config"]},
        "removed": ["legacy"],
        "downstream": ["report"],
        "edges": [["transform", "report"]],
    }


def test_no_change_says_so_and_draws_nothing(changed: tuple[Settings, Path]) -> None:
    settings, _ = changed
    same = manifest_of(settings)
    text = to_markdown(diff_manifests(same, same))
    assert "nothing to run" in text and "mermaid" not in text


def test_diff_without_a_readable_state_is_exit_2(changed: tuple[Settings, Path]) -> None:
    settings, _ = changed
    done = cli(settings, "diff", "--state", "missing.json")
    assert done.returncode == 2 and "Traceback" not in done.stderr
