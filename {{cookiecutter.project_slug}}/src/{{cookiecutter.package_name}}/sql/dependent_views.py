"""Views that read a table being replaced, kept across the swap on PostgreSQL.

A PostgreSQL view is bound to the table it reads, not to its name: the table cannot be dropped
while the view exists. SQLite and MySQL keep the view by name, so a rebuilt table is what it
reads next. To give PostgreSQL the same result, the swap's transaction notes the definitions of
every view that (directly or through other views) reads the table, drops them, replaces the
table, and creates them again; a reader sees the old table and views, or the new ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text

__all__ = ["views_kept"]

# Every view depending on :target, through any chain of views, with its longest chain's depth.
_DEPENDENTS = text("""
    WITH RECURSIVE deps(oid, depth) AS (
        SELECT r.ev_class, 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.refobjid = to_regclass(:target) AND r.ev_class <> d.refobjid
        UNION
        SELECT r.ev_class, deps.depth + 1
        FROM deps JOIN pg_depend d ON d.refobjid = deps.oid JOIN pg_rewrite r ON r.oid = d.objid
        WHERE r.ev_class <> d.refobjid AND deps.depth < 50
    )
    SELECT format('%I.%I', n.nspname, c.relname) AS name, pg_get_viewdef(c.oid) AS body,
           max(deps.depth) AS depth
    FROM deps JOIN pg_class c ON c.oid = deps.oid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'v'
    GROUP BY n.nspname, c.relname, c.oid
    ORDER BY depth
    """)


@contextmanager
def views_kept(conn: Connection, names: list[str], schema: str | None) -> Iterator[None]:
    """Inside the caller's transaction: drop the views reading ``names`` (PostgreSQL only),
    let the block replace those tables, then create the views again as they were."""
    if conn.dialect.name != "postgresql":
        yield
        return
    quote = conn.dialect.identifier_preparer.quote
    views: dict[str, tuple[str, int]] = {}
    for name in names:
        target = f"{quote(schema)}.{quote(name)}" if schema else quote(name)
        for view, body, depth in conn.execute(_DEPENDENTS, {"target": target}):
            views[view] = (body, max(depth, views.get(view, ("", 0))[1]))
    ordered = sorted(views.items(), key=lambda item: item[1][1])
    for view, _ in reversed(ordered):
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {view}")
    yield
    for view, (body, _) in ordered:
        conn.exec_driver_sql(f"CREATE VIEW {view} AS {body}")
