"""The command line: ``run``, ``list``, ``export-dag``, ``show-run``, ``migrate``, and ``runs``,
``ingest``, ``test``, ``settings-schema`` registered from their own modules.

``python -m <package>`` and the project's console script both call ``main()``. Errors the user
can fix are printed as one short paragraph with exit code 2 (definitions, settings, schema) or
1 (the run failed, the run lock is held); an interrupted run exits with 130.
"""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup

from .core.state_command import StateOpt, diff_command, manifest_command, selected_dag
from .db.diagnosis import checked_settings, project_url, setup_error
from .errors import PipelineError
from .logs import configure_logging
from .startup import command_for

if TYPE_CHECKING:
    from .core.report import RunReport

__all__ = ["app", "main"]


class _Interrupted(Exception):
    """Ctrl-C inside a command (typer would end it with a silent exit code 130)."""


class _Commands(TyperGroup):
    # typer hands its groups a typer.Context; TyperGroup's stubs name its base (click's Context)
    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted from None
        except DBAPIError as exc:
            if _caused_by_ctrl_c(exc):
                raise _Interrupted from None
            raise


def _caused_by_ctrl_c(exc: BaseException) -> bool:
    """Whether Ctrl-C is behind ``exc``: interrupted mid-query, a driver may then fail on the
    connection it left busy (psycopg: "can't change 'autocommit' now") instead of re-raising."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, KeyboardInterrupt):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


app = typer.Typer(
    cls=_Commands,
    help="Run and inspect the pipeline: tasks in models/, results in the run ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

# Options that take several words after one flag (`--select a b+ tag:x`), as dbt spells them.
MULTI_VALUE = ("--select", "-s", "--exclude", "-x")


class ExecutorKind(str, Enum):
    threads = "threads"
    dask = "dask"


class DagFormat(str, Enum):
    png = "png"
    svg = "svg"
    dot = "dot"
    mermaid = "mermaid"


SelectOpt = Annotated[
    list[str] | None,
    typer.Option("--select", "-s", help="Tasks to run: name, glob, tag:x, a+ (descendants), +a."),
]
ExcludeOpt = Annotated[
    list[str] | None, typer.Option("--exclude", "-x", help="Tasks to leave out (same syntax).")
]
WorkersOpt = Annotated[int | None, typer.Option(min=1, help="Tasks at once.")]
FullRefreshOpt = Annotated[
    bool, typer.Option("--full-refresh", help="Run every selected task: no cache, ttl or schedule.")
]
ResumeOpt = Annotated[
    bool,
    typer.Option("--resume", help="Run only the failed and never-started tasks of the last run."),
]
FailFastOpt = Annotated[
    bool, typer.Option("--fail-fast", help="Start nothing new after the first failure.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print what would run and why; run nothing.")
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Fail a task that reads a table it does not depend on.")
]
ExecutorOpt = Annotated[
    ExecutorKind | None,
    typer.Option(help="Where tasks run (default: executor.kind in settings.yml)."),
]


@app.command()
def run(
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    workers: WorkersOpt = None,
    full_refresh: FullRefreshOpt = False,
    resume: ResumeOpt = False,
    fail_fast: FailFastOpt = False,
    dry_run: DryRunOpt = False,
    executor: ExecutorOpt = None,
    strict: StrictOpt = False,
    state: StateOpt = None,
) -> None:
    """Run the pipeline (the tasks under models/)."""
    from .console import observer_for
    from .core.plan import RunRequest
    from .core.runner import run_pipeline

    request = RunRequest(
        select=tuple(select or ()),
        exclude=tuple(exclude or ()),
        workers=workers,
        full_refresh=full_refresh,
        resume=resume,
        fail_fast=fail_fast,
        dry_run=dry_run,
        executor=executor.value if executor else None,
        strict=strict,
    )
    settings = checked_settings()
    observer = None if dry_run else observer_for(console)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = run_pipeline(settings, request, observer=observer)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if report.dry_run:
        _print_plan(report)
        return
    if report.message:
        err_console.print(report.message)
    raise typer.Exit(report.exit_code)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM (docker stop, CI timeouts) cancels like Ctrl-C


def _print_plan(report: RunReport) -> None:
    table = Table("task", "action", "why", title="dry run: nothing was run")
    for item in report.plan:
        table.add_row(item.name, "run" if item.run else "skip", item.reason)
    console.print(table)
    would = sum(1 for item in report.plan if item.run)
    console.print(f"{would} of {len(report.plan)} tasks would run")


@app.command("list")
def list_tasks(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    lineage: Annotated[
        bool, typer.Option("--lineage", help="Add the tables each task read and wrote last.")
    ] = False,
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    state: StateOpt = None,
) -> None:
    """List the tasks: dependencies, schedule, ttl, retries, tags and last status."""
    from .core.runner import load_dag
    from .views import tasks_view

    settings = checked_settings()
    dag = selected_dag(load_dag(settings), select, exclude)
    tasks_view(settings, console, dag, as_json=as_json, lineage=lineage)


@app.command("export-dag")
def export_dag(
    fmt: Annotated[
        DagFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DagFormat.png,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Colour nodes by this run (default: the last).")
    ] = None,
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    state: StateOpt = None,
) -> None:
    """Draw the DAG into dags/, nodes coloured by the last run's (or --run's) states."""
    from .core.runner import load_dag
    from .views import last_statuses

    settings = checked_settings()
    dag = selected_dag(load_dag(settings), select, exclude)
    statuses = last_statuses(settings, run_id)
    folder = settings.path(settings.project.dags_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")  # no ':' so the name is valid on Windows
    if fmt is DagFormat.mermaid:
        path = folder / f"dag_{stamp}.mmd"
        path.write_text(dag.to_mermaid(statuses), encoding="utf-8")
    elif fmt is DagFormat.dot:
        path = folder / f"dag_{stamp}.dot"
        path.write_text(dag.to_dot(statuses), encoding="utf-8")
    else:
        path = _render(dag.to_dot(statuses), folder / f"dag_{stamp}.{fmt.value}")
    console.print(str(path))


def _render(dot_source: str, target: Path) -> Path:
    """PNG/SVG through Graphviz; without it, the DOT file and a note on how to get images."""
    dot = shutil.which("dot")
    if dot is None:
        fallback = target.with_suffix(".dot")
        fallback.write_text(dot_source, encoding="utf-8")
        err_console.print(
            f"Graphviz `dot` is not installed, so {target.suffix[1:].upper()} cannot be drawn; "
            f"wrote DOT instead. Install graphviz (apt install graphviz / brew install graphviz)."
        )
        return fallback
    tmp = target.with_suffix(target.suffix + ".part")
    result = subprocess.run(  # noqa: S603 (argv list: Graphviz found on PATH, no shell)
        [dot, f"-T{target.suffix[1:]}", "-o", str(tmp)],
        input=dot_source.encode(),
        capture_output=True,
    )
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise PipelineError(f"Graphviz failed to draw the DAG: {result.stderr.decode().strip()}")
    tmp.replace(target)  # never leave a half-written image under its final name
    return target


@app.command("show-run")
def show_run(
    run_id: Annotated[str, typer.Argument(help="A run id from `runs`, or `last`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    tracebacks: Annotated[
        bool, typer.Option("--traceback", help="Print each failed attempt's whole traceback.")
    ] = False,
) -> None:
    """One run: every task attempt, its status, timing, error and data checks."""
    from .views import show_run_view

    show_run_view(checked_settings(), console, run_id, as_json=as_json, tracebacks=tracebacks)


@app.command()
def migrate() -> None:
    """Upgrade the database to the newest migration (alembic upgrade head)."""
    from .db.engine import engine_from_settings
    from .db.schema import current_revision, upgrade

    settings = checked_settings()
    upgrade(settings)
    engine = engine_from_settings(settings)
    try:
        console.print(f"database at revision {current_revision(engine)}")
    finally:
        engine.dispose()


@app.command(hidden=importlib.util.find_spec(f"{__package__}.dashboard") is None)
def dashboard(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: dashboard.host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port (default: dashboard.port, 8501)."),
    ] = None,
) -> None:
    """Serve the dashboard: runs, task timelines, the DAG and tables, read-only (Streamlit).

    Its database connection is tried first, so a set-up problem is told here, not in the page.
    """
    try:
        from .dashboard.launch import serve
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.dashboard":
            raise
        raise PipelineError(
            "this project was generated without the dashboard; re-generate it with "
            "include_dashboard=yes to get one"
        ) from exc
    serve(checked_settings(), host=host, port=port)


from .ingest.commands import ingest_command  # noqa: E402 (registered beside the others)

app.command("ingest")(ingest_command)
from .runs_command import runs_app  # noqa: E402

app.add_typer(runs_app, name="runs")
from .core.check_command import test_command  # noqa: E402

app.command("test")(test_command)
from .settings_schema import schema_command  # noqa: E402

app.command("settings-schema")(schema_command)
app.command("manifest")(manifest_command)
app.command("diff")(diff_command)


def _expand_multi_value(argv: Sequence[str]) -> list[str]:
    """``--select a b`` -> ``--select a --select b`` (click takes one value per flag)."""
    out: list[str] = []
    flag = None
    for arg in argv:
        if arg in MULTI_VALUE:
            flag = arg
            out.append(arg)
            continue
        if flag and not arg.startswith("-") and out[-1] != flag:
            out.append(flag)
        elif arg.startswith("-"):
            flag = None
        out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the app, turning the package's errors into one paragraph and an exit code."""
    args = _expand_multi_value(list(sys.argv[1:] if argv is None else argv))
    prog = Path(sys.argv[0]).name if argv is None else "pipeline"
    if prog == "__main__.py":
        prog = f"python -m {__package__}"
    try:
        configure_logging()
        code = command_for(app, args)(args=args, prog_name=prog, standalone_mode=False)
    except PipelineError as exc:
        _fail(exc)
    except DBAPIError as exc:  # the database refused: the same paragraph whatever the command
        _fail(setup_error(exc, project_url()))
    except (KeyboardInterrupt, _Interrupted, typer.Abort):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a further Ctrl-C must not cut the exit short
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        # Usage errors come from click, which newer typer versions bundle under another name:
        # recognise them by what they offer rather than by class.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)


def _fail(exc: PipelineError) -> NoReturn:
    err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
