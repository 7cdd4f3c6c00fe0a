"""``manifest`` and ``diff``, and the ``--state`` option of ``run``, ``list``, ``test`` and
``export-dag``: the pull-request workflow's commands (registered on the app by ``cli.py``)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..settings import Settings, load_settings
from .state import read_state, use_state

if TYPE_CHECKING:
    from .dag import Dag
    from .manifest import Manifest

__all__ = ["StateOpt", "diff_command", "manifest_command", "selected_dag"]

StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="Manifest of another version, for state:new/modified/removed selectors.",
        callback=use_state,
    ),
]


class DiffFormat(str, Enum):
    markdown = "markdown"
    mermaid = "mermaid"
    json = "json"


def manifest_command(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to FILE instead of stdout.")
    ] = None,
) -> None:
    """Describe the DAG as stable JSON: each task's place, fingerprint and its parts,
    dependencies, materialization, checks, schedule and tags (compare two with ``diff``)."""
    from .manifest import dump_manifest

    text = dump_manifest(_current(load_settings()))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


def diff_command(
    state: Annotated[
        Path, typer.Option("--state", help="The base version's manifest (from `manifest`).")
    ],
    fmt: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DiffFormat.markdown,
) -> None:
    """Tasks added, removed and modified since the --state manifest and what runs downstream
    of them: Markdown (a Mermaid graph and a table), Mermaid alone or JSON."""
    from .diff import diff_manifests, to_json, to_markdown, to_mermaid

    base = read_state(state)
    diff = diff_manifests(base, _current(load_settings()))
    render = {"markdown": to_markdown, "mermaid": to_mermaid, "json": to_json}[fmt.value]
    typer.echo(render(diff), nl=False)


def selected_dag(dag: Dag, select: list[str] | None, exclude: list[str] | None) -> Dag:
    """The part of ``dag`` the selectors pick, edges kept between picked tasks."""
    if not select and not exclude:
        return dag
    from .dag import Dag

    names = dag.select(select, exclude)
    kept = set(names)
    upstream = {n: tuple(p for p in dag.upstream(n) if p in kept) for n in names}
    return Dag({n: dag.tasks[n] for n in names}, upstream)


def _current(settings: Settings) -> Manifest:
    from .manifest import build_manifest
    from .runner import load_dag

    return build_manifest(load_dag(settings), settings.task_config, settings.root)
