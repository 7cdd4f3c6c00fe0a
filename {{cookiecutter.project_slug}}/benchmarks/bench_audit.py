"""Audit-before-publish benchmark: the price of checking a build before it replaces its table.

A 1,000,000-row table is grouped into 100,000 groups and stored as a table with three checks
(``unique``, ``not_null``, ``row_count``), two ways, side by side: audited (the checks run on
the built shadow before the swap, as a task's output is stored) and materialize-then-check
(the table is published, then checked). Goal: the audit adds at most 10%.

    python benchmarks/bench_audit.py          # SQLite, plus MariaDB/MySQL when MYSQL_URL is set
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench_sql import ROWS, best_of, fill, mysql_database
from sqlalchemy import Engine, func

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.sql.audit import Audit
from {{ cookiecutter.package_name }}.sql.checks import not_null, row_count, unique
from {{ cookiecutter.package_name }}.sql.dataframe import DataFrame
from {{ cookiecutter.package_name }}.sql.session import Session

GROUPS = 100_000
REPEATS = 5
CHECKS = [unique("grp"), not_null("grp", "total"), row_count(min=1)]


def grouped(session: Session) -> DataFrame:
    facts = session.table("facts")
    return facts.with_column("grp", facts.id % GROUPS).group_by(
        "grp", agg={"amount": (func.sum, "total"), "id": (func.count, "n")}
    )


def audited(session: Session) -> None:
    audit = Audit(CHECKS)
    grouped(session).materialize("audited", audit=audit)
    assert audit.rejected is None and not any(o.failed for o in audit.outcomes)


def checked_after(session: Session) -> None:
    grouped(session).materialize("checked_after")
    outcomes = [check.run(session.engine, default_table="checked_after") for check in CHECKS]
    assert not any(o.failed for o in outcomes)


def compare(label: str, engine: Engine) -> bool:
    """Time both ways on one database, print figures and the ratio; True if the goal holds."""
    print(f"\n== {label}: GROUP BY {ROWS:,} rows into {GROUPS:,} groups, with 3 checks")
    fill(engine)
    session = Session(engine)
    audited(session)  # warm the reflection cache and the page cache alike
    checked_after(session)
    audit_s, after_s = best_of(REPEATS, lambda: audited(session), lambda: checked_after(session))
    ratio = audit_s / after_s
    print(f"  materialize, then check          {after_s * 1000:9.1f} ms")
    print(f"  audit before publish             {audit_s * 1000:9.1f} ms  ({ratio:.3f}x)")
    met = ratio <= 1.10
    print(f"  goal: the audit adds at most 10% -> {'met' if met else 'NOT met'}")
    return met


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        compare("SQLite", engine)
        engine.dispose()
    server = os.environ.get("MYSQL_URL")
    if server:
        with mysql_database(server) as engine:
            compare("MariaDB/MySQL", engine)
    else:
        print("\n(MYSQL_URL is not set: MariaDB/MySQL skipped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
