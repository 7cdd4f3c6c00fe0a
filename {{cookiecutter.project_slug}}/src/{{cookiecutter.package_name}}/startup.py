"""What the command line builds at start-up: only the command it was asked to run.

typer turns every registered command into a click command (reading each one's annotations)
before it looks at the arguments, which costs a few milliseconds per command on every start.
When the first argument names a command, the group is built with that command alone; its
parsing, help and errors are the same. Anything else (no arguments, ``--help``, an unknown or
mistyped name, a command group) gets the whole app, so the top-level help and the "No such
command" suggestions still list every command.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import typer
from typer.main import get_command_name, get_group

__all__ = ["command_for"]


def command_for(app: typer.Typer, args: Sequence[str]) -> Callable[..., Any]:
    """The callable to run ``args`` with: ``app`` itself, or a group of the one command named."""
    name = args[0] if args and not args[0].startswith("-") else None
    chosen = [info for info in app.registered_commands if _name(info) == name]
    if name is None or len(chosen) != 1:
        return app
    lean = copy.copy(app)
    lean.registered_commands = chosen
    lean.registered_groups = []
    return get_group(lean)  # a group even with one command, so `run` stays its subcommand


def _name(info: typer.models.CommandInfo) -> str | None:
    if info.name:
        return info.name
    return get_command_name(info.callback.__name__) if info.callback else None
