"""Write-audit-publish: a build's checks run against what its table would be, before it is
published; a refused build is kept aside as ``<table>__rejected`` for inspection.

The materializers (``materialize.py``, ``incremental.py``) build aside, ask :meth:`Audit.passes`
and then either publish (and drop an older rejected copy) or keep the build as rejected and
leave the published table exactly as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from ..faults import crash_point
from ..sqltyping import AnySelect
from ..system import MYSQL_BACKENDS
from .checks import Check, CheckOutcome
from .ddl import REJECTED_SUFFIX, AlterRename, CreateView, RenameTables, max_identifier
from .shadow import drop, kind_of

__all__ = ["Audit"]


@dataclass
class Audit:
    """The checks a build must pass before it is published, and what they found.

    ``table`` is the name readers know (a staged task builds into its stage's shadow, but its
    rejected copy is still named after its table); None means the materialized name.
    """

    checks: Sequence[Check] = ()
    table: str | None = None
    schema: str | None = None
    outcomes: list[CheckOutcome] = field(default_factory=list)
    rejected: str | None = None

    def passes(self, bind: Engine | Connection, target: str, built: str) -> bool:
        """Run every check, reading ``target`` from ``built``; False when one fails its task.

        Checks naming another table read that table as it is now.
        """
        self.table = self.table or target
        self.outcomes = [
            check.run(bind, default_table=target, schema=self.schema, reading={target: built})
            for check in self.checks
        ]
        crash_point("materialize.after_audit")
        return not any(outcome.failed for outcome in self.outcomes)

    def rejected_name(self, engine: Engine) -> str:
        """Where a refused build is kept: ``<table>__rejected``, shortened with a hash of the
        table's name when that would pass the database's identifier limit."""
        name = f"{self.table}{REJECTED_SUFFIX}"
        limit = max_identifier(engine)
        if len(name) <= limit:
            return name
        digest = hashlib.sha1(str(self.table).encode(), usedforsecurity=False).hexdigest()[:8]
        return f"{str(self.table)[: limit - len(REJECTED_SUFFIX) - 9]}_{digest}{REJECTED_SUFFIX}"

    def reject(self, conn: Connection, built: str) -> None:
        """Keep the refused ``built`` table (or MySQL view) as the rejected copy."""
        crash_point("materialize.before_reject")
        name = self.rejected_name(conn.engine)
        drop(conn, name, kind_of(conn, name, self.schema), self.schema)
        if conn.dialect.name in MYSQL_BACKENDS:
            conn.execute(RenameTables([(built, name)], self.schema))
        else:
            conn.execute(AlterRename(built, name, self.schema))
        self.rejected = name

    def reject_view(self, conn: Connection, built: str, select: AnySelect) -> None:
        """Keep a refused view definition (views cannot be renamed everywhere: recreate it)."""
        crash_point("materialize.before_reject")
        name = self.rejected_name(conn.engine)
        drop(conn, built, "view", self.schema)
        drop(conn, name, kind_of(conn, name, self.schema), self.schema)
        conn.execute(CreateView(name, select, self.schema))
        self.rejected = name

    def published(self, conn: Connection, target: str) -> None:
        """A build was published: an older rejected copy of the same table is dropped."""
        self.table = self.table or target
        name = self.rejected_name(conn.engine)
        drop(conn, name, kind_of(conn, name, self.schema), self.schema)
