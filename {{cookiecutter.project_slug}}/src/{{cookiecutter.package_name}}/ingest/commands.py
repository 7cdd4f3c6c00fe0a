"""The ``ingest`` command: load a model's inputs now, or show the ledger of data objects."""

from __future__ import annotations

import glob
import json
import os
import signal
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import DefinitionError, IngestError
from ..settings import Settings, load_settings
from ..status import ObjectStatus
from ..system import first_line

if TYPE_CHECKING:
    from .model import IngestModel
    from .runner import IngestReport

__all__ = ["ingest_command"]

console = Console()
err_console = Console(stderr=True)
_COLOURS: dict[str, str] = {  # ObjectStatus keys; the ledger reads back plain strings
    ObjectStatus.LOADED: "green",
    ObjectStatus.SKIPPED: "dim",
    ObjectStatus.FAILED: "red",
    ObjectStatus.CRASHED: "red",
    ObjectStatus.LOADING: "yellow",
}
# An object's row counts; each column is titled by its count's name ("read", "loaded"...).
_COUNTS = ("rows_read", "rows_loaded", "rows_rejected")
_COUNT_TITLES = tuple(name.removeprefix("rows_") for name in _COUNTS)


def ingest_command(
    model: Annotated[str | None, typer.Argument(help="The ingest model to run.")] = None,
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files or globs (default: the model's source).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Load again inputs already loaded.")
    ] = False,
    reprocess: Annotated[
        bool,
        typer.Option("--reprocess", help="Also re-load raw objects an older model version loaded."),
    ] = False,
    status: Annotated[
        bool, typer.Option("--status", help="Show the data objects ledger instead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="How many objects --status shows.")] = 30,
) -> None:
    """Extract, transform and load a model's inputs exactly once; or --status of every object."""
    settings = load_settings()
    if status:
        _status(settings, model, as_json=as_json, limit=limit)
        return
    if model is None:
        raise DefinitionError(
            ["name the model to ingest: `ingest <model> [paths...]`"], where="ingest"
        )
    from .runner import IngestReport, ingest

    _require_matches(paths or ())
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = ingest(
            _model(settings, model),
            paths or (),
            settings=settings,
            force=force,
            reprocess=reprocess,
        )
    except IngestError as exc:
        if isinstance(exc.report, IngestReport):
            _print_report(exc.report, as_json)
        raise
    except KeyboardInterrupt:
        err_console.print("interrupted")  # the object's load was rolled back and recorded
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    _print_report(report, as_json)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM (docker stop, CI timeouts) stops an ingest like Ctrl-C


def _require_matches(paths: Sequence[str]) -> None:
    """Refuse (exit 2, one line) paths and globs the user named that match no file."""
    unmatched = [
        path
        for path in paths
        if not (glob.glob(path, recursive=True) if glob.has_magic(path) else os.path.isfile(path))
    ]
    if unmatched:
        err_console.print(
            f"[red]error:[/red] no file matches {escape(', '.join(unmatched))} (from "
            f"{escape(os.getcwd())}); check the path or glob",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)


def _model(settings: Settings, name: str) -> type[IngestModel]:
    from ..core.discovery import discover
    from .model import registered

    discover(settings)
    models = registered()
    if name not in models:
        known = ", ".join(sorted(models)) or "<none: define one in models/>"
        raise DefinitionError(
            [f"no ingest model named {name!r}; the ingest models are: {known}"], where="ingest"
        )
    return models[name]


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        objects = [vars(result) for result in report.objects]
        console.print_json(
            json.dumps({"model": report.model, "version": report.version, "objects": objects})
        )
        return
    table = Table("status", "input", *_COUNT_TITLES, "note")
    for result in report.objects:
        colour = _COLOURS.get(result.status, "white")
        table.add_row(
            f"[{colour}]{result.status}[/{colour}]",
            escape(result.uri),
            *(str(getattr(result, name)) for name in _COUNTS),
            escape(result.message),
        )
    if report.objects:
        console.print(table)
    console.print(escape(report.summary()), soft_wrap=True)


def _status(settings: Settings, model: str | None, *, as_json: bool, limit: int) -> None:
    from ..db.schema import engine_at_head
    from .ledger import recent_objects

    with engine_at_head(settings) as engine:
        rows = recent_objects(engine, model, limit)
    if as_json:
        console.print_json(json.dumps(rows, default=str))
        return
    table = Table("model", "v", "status", "input", *_COUNT_TITLES, "updated (UTC)", "error")
    for row in rows:
        colour = _COLOURS.get(str(row["status"]), "white")
        error = row["error"]
        table.add_row(
            str(row["model"]),
            str(row["model_version"]),
            f"[{colour}]{row['status']}[/{colour}]",
            escape(str(row["source_uri"])),
            *(str(row[key] if row[key] is not None else "") for key in _COUNTS),
            str(row["updated_at"])[:19],
            escape(first_line(error if isinstance(error, str) else None)[:80]),
        )
    console.print(table if rows else "no data objects yet: run `ingest <model>`")
