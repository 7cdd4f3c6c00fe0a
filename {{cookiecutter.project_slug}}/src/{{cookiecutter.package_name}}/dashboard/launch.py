"""Start the dashboard: ``streamlit run`` on this package's app, bound to the configured address.

The server gets the settings file through ``PIPELINE_SETTINGS``, so it reads the same project
(and database) as the command that started it, whatever its working directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import PipelineError
from ..settings import SETTINGS_ENV, SETTINGS_FILE, Settings
from .connection import check_connection, dashboard_url

__all__ = ["APP", "command", "environment", "serve"]

APP = Path(__file__).resolve().parent / "app.py"


def command(settings: Settings, *, host: str | None = None, port: int | None = None) -> list[str]:
    """The ``streamlit run`` command line for this project."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host or settings.dashboard.host,
        "--server.port",
        str(port or settings.dashboard.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
    ]


def environment(settings: Settings) -> dict[str, str]:
    """This process's environment plus the settings file and the package's import path."""
    env = dict(os.environ)
    env.setdefault(SETTINGS_ENV, str(Path(settings.root) / SETTINGS_FILE))
    source_root = str(APP.parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
    return env


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Become the Streamlit server (the process is replaced), so that a signal to this
    command, Ctrl-C or a container stop, reaches the server itself and leaves nothing behind.

    The database is tried first: a server that is down or a refused login is told here, as one
    paragraph, rather than on the page."""
    try:
        import streamlit  # noqa: F401  (only to fail early with advice)
    except ImportError as exc:
        raise PipelineError(
            "the dashboard needs Streamlit: install the project with its dashboard extra "
            "(`pip install -e '.[dashboard]'`, which `make install` does)"
        ) from exc
    check_connection(settings, dashboard_url(settings))
    address = f"http://{host or settings.dashboard.host}:{port or settings.dashboard.port}"
    print(f"Dashboard on {address} (Ctrl-C stops it)", flush=True)
    argv = command(settings, host=host, port=port)
    os.execve(argv[0], argv, environment(settings))  # noqa: S606 (our streamlit argv)
