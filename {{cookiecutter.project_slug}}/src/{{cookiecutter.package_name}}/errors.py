"""The package's one exception tree.

    PipelineError
    ├── SettingsError          settings.yml is missing, unreadable or invalid
    ├── DatabaseError          the database is unreachable or not migrated
    │   ├── DatabaseSetupError     cannot connect: server down, login refused, bad URL or driver
    │   ├── MigrationsPendingError the schema is behind the code
    │   └── SchemaAheadError       the schema was migrated by a newer version of the project
    ├── DefinitionError        bad tasks or graph (ValueError too)
    │   └── CycleError
    ├── StateError             a ``state:`` selector without a usable ``--state`` manifest
    ├── RunLockedError         another run holds the run lock
    ├── RunLockLostError       this run lost its run lock; it stops before publishing
    ├── SQLLayerError          bad DataFrame input (ValueError too)
    │   ├── ColumnNotFoundError    no such column (AttributeError and KeyError too)
    │   ├── AmbiguousColumnError   a name both sides of a join have (AttributeError, KeyError)
    │   └── MaterializeError       the database refused a materialization; nothing was replaced
    ├── InjectedCrash          a test asked a named crash point to raise
    └── IngestError            objects an ingest could not load (``failures``: uri -> reason)

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


class DatabaseSetupError(DatabaseError):
    """The database cannot be used at all; ``problem`` names the kind (``db.diagnosis``) and
    ``url`` the database, its password hidden."""

    def __init__(self, problem: str, url: str, message: str):
        self.problem = problem
        self.url = url
        super().__init__(message)


class MigrationsPendingError(DatabaseError):
    """The database schema is not at the newest Alembic revision."""

    def __init__(
        self,
        current: str | None,
        head: str | None,
        command: str = "make migrate",
        url: str | None = None,
    ):
        self.current = current
        self.head = head
        self.command = command
        self.url = url
        super().__init__(
            f"the database is at revision {current or '<empty>'} but the code expects "
            f"{head or '<none>'}; run `{command}` to upgrade {url or 'it'}"
        )


class SchemaAheadError(DatabaseError):
    """The database is at a revision this project's migrations do not know: a newer version of
    the project migrated it, and neither running nor migrating with this code is safe."""

    def __init__(self, current: str, head: str | None, url: str | None = None):
        self.current = current
        self.head = head
        self.url = url
        where = f" ({url})" if url else ""
        super().__init__(
            f"the database{where} is at revision {current}, which this project's migrations do "
            f"not know (their newest is {head or '<none>'}): this database was migrated by a "
            f"newer version of the project; update the code (git pull) instead of migrating"
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


class StateError(PipelineError):
    """A ``state:`` selector cannot be answered: no ``--state`` manifest, or an unreadable one."""

    exit_code = 2


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


class RunLockLostError(PipelineError):
    """The run no longer holds the run lock (its connection dropped and another run took it)."""

    def __init__(self, lock: str):
        self.lock = lock
        super().__init__(
            f"this run lost the run lock {lock!r} (its database connection dropped and the "
            f"lock could not be taken back); it stopped before publishing anything: check the "
            f"database server, then run again with --resume"
        )


class SQLLayerError(PipelineError, ValueError):
    """A DataFrame or materialization was asked for something it cannot do."""


class ColumnNotFoundError(SQLLayerError, AttributeError, KeyError):
    """A column name the DataFrame does not have; ``available`` lists the ones it has."""

    def __init__(self, name: str, available: Sequence[str]):
        self.name = name
        self.available = list(available)
        super().__init__(
            f"no column {name!r} in this DataFrame; its columns are: "
            + (", ".join(self.available) or "<none>")
        )

    def __str__(self) -> str:  # KeyError would otherwise show the message quoted
        return str(self.args[0])


class AmbiguousColumnError(SQLLayerError, AttributeError, KeyError):
    """A name that more than one column carries, typically both sides of a join."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"column {name!r} is ambiguous: both sides of the join have it; pick one with the "
            f"side's own DataFrame (df_left[{name!r}]), rename one before joining "
            f"(with_column_renamed), or pass suffixes=('_l', '_r') to join"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class MaterializeError(SQLLayerError):
    """Building or swapping a table or view failed; the previous version is still in place."""

    def __init__(self, target: str, kind: str, reason: str):
        self.target = target
        self.kind = kind
        self.reason = reason
        super().__init__(
            f"could not materialize {target!r} as a {kind}: {reason}; "
            f"the previous {target!r} (if any) is unchanged"
        )


class InjectedCrash(PipelineError):
    """Raised by a named crash point when a fault-injection test asks for an exception."""

    def __init__(self, point: str):
        self.point = point
        super().__init__(f"injected crash at {point}")


class IngestError(PipelineError):
    """Some objects of an ingest failed; each was rolled back and its reason recorded."""

    def __init__(self, model: str, failures: dict[str, str], report: object = None):
        self.model = model
        self.failures = dict(failures)
        self.report = report
        count = len(self.failures)
        noun = "object" if count == 1 else "objects"
        lines = [f"{uri}: {reason}" for uri, reason in sorted(self.failures.items())]
        super().__init__(
            f"ingest {model!r}: {count} {noun} failed and loaded nothing (fix or remove the "
            f"file, then ingest again):\n  " + "\n  ".join(lines)
        )
