"""The package's one exception tree.

    PipelineError
    ├── SettingsError          settings.yml is missing, unreadable or invalid
    ├── DatabaseError          the database is unreachable or not migrated
    │   └── MigrationsPendingError
    ├── DefinitionError        bad tasks or graph (ValueError too)
    │   └── CycleError
    ├── RunLockedError         another run holds the run lock
    └── SQLLayerError          bad DataFrame input (ValueError too)

Every error carries the data a caller needs to act on it, and its message is one short
paragraph naming the thing to fix.
"""

from __future__ import annotations

from collections.abc import Sequence


class PipelineError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 1


class SettingsError(PipelineError):
    """settings.yml could not be loaded; ``problems`` lists each one with its key and line."""

    exit_code = 2

    def __init__(self, path: str, problems: Sequence[str]):
        self.path = path
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{count} {noun} in {path}:\n  " + "\n  ".join(self.problems))


class DatabaseError(PipelineError):
    """The project database cannot be used as it is."""

    exit_code = 2


class MigrationsPendingError(DatabaseError):
    """The database schema is not at the newest Alembic revision."""

    def __init__(self, current: str | None, head: str | None, command: str = "make migrate"):
        self.current = current
        self.head = head
        self.command = command
        super().__init__(
            f"the database is at revision {current or '<empty>'} but the code expects "
            f"{head or '<none>'}; run `{command}` to upgrade it"
        )


class DefinitionError(PipelineError, ValueError):
    """Tasks or their graph are defined wrongly; ``problems`` lists every one."""

    exit_code = 2

    def __init__(self, problems: Sequence[str], where: str = "models/"):
        self.problems = sorted(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{count} {noun} in {where}:\n  " + "\n  ".join(self.problems))


class CycleError(DefinitionError):
    """The task graph has a cycle; ``cycle`` holds it, first node repeated at the end."""

    def __init__(self, cycle: Sequence[str]):
        self.cycle = list(cycle)
        super().__init__(["cycle: " + " -> ".join(self.cycle)])


class RunLockedError(PipelineError):
    """Another run holds this database's run lock."""

    def __init__(self, run_id: str | None, host: str | None, pid: int | None):
        self.run_id = run_id
        self.host = host
        self.pid = pid
        super().__init__(
            f"another run is in progress on this database (run {run_id}, host {host}, "
            f"pid {pid}); wait for it to finish or stop that process"
        )


class SQLLayerError(PipelineError, ValueError):
    """A DataFrame or materialization was asked for something it cannot do."""
