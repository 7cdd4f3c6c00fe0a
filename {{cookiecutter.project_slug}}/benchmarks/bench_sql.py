"""SQL layer benchmark: a DataFrame GROUP BY materialization against hand-written SQL and pandas.

A 1,000,000-row table is grouped into 1,000 groups and stored as a table three ways, side by
side: ``CREATE TABLE AS SELECT`` written by hand, the DataFrame's ``materialize``, and a pandas
round trip (``read_sql`` -> ``groupby`` -> ``to_sql``). Goal: the DataFrame within 1.2x of the
hand-written SQL. It also times building the SQL of a 20-step chain (goal: under 5 ms).

    python benchmarks/bench_sql.py    # SQLite, plus MariaDB/MySQL and PostgreSQL when MYSQL_URL
                                      # and POSTGRES_URL are set
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from pg_loaders import fresh_database
from sqlalchemy import Engine, create_engine, func, text
from sqlalchemy.engine import make_url

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.sql.session import Session

ROWS = 1_000_000
GROUPS = 1_000
REPEATS = 5
HAND_SQL = (
    "CREATE TABLE hand AS SELECT grp, SUM(amount) AS total, COUNT(id) AS n FROM facts GROUP BY grp"
)


def fill(engine: Engine) -> None:
    """``facts(id, grp, amount)``: ROWS rows from a six-way cross join of the digits."""
    digits = " UNION ALL ".join(f"SELECT {d} AS d" for d in range(10))
    parts = [f"({digits}) AS d{i}" for i in range(6)]
    number = " + ".join(f"d{i}.d * {10 ** i}" for i in range(6))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS facts"))
        conn.execute(text("CREATE TABLE facts (id INTEGER, grp INTEGER, amount FLOAT)"))
        conn.execute(
            text(
                f"INSERT INTO facts SELECT n, n % {GROUPS}, (n % 97) * 1.5 "
                f"FROM (SELECT {number} AS n FROM {', '.join(parts)}) AS numbers"
            )
        )


def best_of(repeats: int, *runs: Callable[[], object]) -> list[float]:
    """The fastest of ``repeats`` runs of each, interleaved so load spikes hit all alike."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for run, spent in zip(runs, times):
            start = time.perf_counter()
            run()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def hand_written(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS hand"))
        conn.execute(text(HAND_SQL))


def through_dataframe(session: Session) -> int:
    facts = session.table("facts")
    grouped = facts.group_by(
        facts.grp, agg={"amount": (func.sum, "total"), "id": (func.count, "n")}
    )
    return grouped.materialize("via_dataframe")


def through_pandas(engine: Engine) -> None:
    with engine.begin() as conn:
        frame = pd.read_sql(text("SELECT id, grp, amount FROM facts"), conn)
        grouped = frame.groupby("grp", as_index=False).agg(
            total=("amount", "sum"), n=("id", "count")
        )
        grouped.to_sql("via_pandas", conn, if_exists="replace", index=False)


def compare(label: str, engine: Engine) -> bool:
    """Time the three ways on one database, print figures and ratios; True if the goal holds."""
    print(f"\n== {label}: GROUP BY {ROWS:,} rows into {GROUPS:,} groups, stored as a table")
    fill(engine)
    session = Session(engine)
    through_dataframe(session)  # warm the reflection cache and the page cache alike
    hand_written(engine)
    hand, frame = best_of(REPEATS, lambda: hand_written(engine), lambda: through_dataframe(session))
    (pandas_s,) = best_of(1, lambda: through_pandas(engine))
    ratio = frame / hand
    print(f"  hand-written CREATE TABLE AS SELECT  {hand * 1000:9.1f} ms")
    print(f"  DataFrame.materialize                {frame * 1000:9.1f} ms  ({ratio:.2f}x hand)")
    print(
        f"  pandas read_sql/groupby/to_sql       {pandas_s * 1000:9.1f} ms  "
        f"({pandas_s / hand:.1f}x hand, {pandas_s / frame:.1f}x DataFrame)"
    )
    met = ratio <= 1.2
    print(f"  goal: DataFrame within 1.2x of hand-written SQL -> {'met' if met else 'NOT met'}")
    return met


def chain_build_ms(engine: Engine) -> float:
    """Median time to compose a 20-step chain and compile its SQL, in milliseconds."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS chain"))
        conn.execute(text("CREATE TABLE chain (id INTEGER, grp INTEGER, amount FLOAT)"))
    session = Session(engine)
    base = session.table("chain")

    def build() -> str:
        df = base
        for step in range(20):
            if step % 4 == 0:
                df = df.where(df.amount > step)
            elif step % 4 == 1:
                df = df.with_column(f"c{step}", df.amount * step)
            elif step % 4 == 2:
                df = df.select(*df.columns[:6])
            else:
                df = df.order_by(df.id)
        return df.sql()

    build()
    times = []
    for _ in range(50):
        start = time.perf_counter()
        build()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@contextmanager
def mysql_database(server_url: str) -> Iterator[Engine]:
    """The URL's database, or a scratch ``test_bench_*`` one dropped afterwards."""
    if make_url(server_url).database:
        engine = make_engine(server_url)
        yield engine
        engine.dispose()
        return
    name = f"test_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    engine = make_engine(make_url(server_url).set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@contextmanager
def postgres_database(server_url: str) -> Iterator[Engine]:
    """A scratch ``test_bench_*`` database on the PostgreSQL server, dropped afterwards."""
    with fresh_database(server_url) as url:
        engine = make_engine(make_url(url))
        try:
            yield engine
        finally:
            engine.dispose()


SERVERS = (
    ("MariaDB/MySQL", "MYSQL_URL", mysql_database),
    ("PostgreSQL", "POSTGRES_URL", postgres_database),
)


def main() -> int:
    results = []
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        results.append(compare("SQLite", engine))
        chain = chain_build_ms(engine)
        engine.dispose()
    for label, variable, scratch in SERVERS:
        server = os.environ.get(variable)
        if server:
            with scratch(server) as engine:
                results.append(compare(label, engine))
        else:
            print(f"\n({variable} is not set: {label} skipped)")
    print(f"\n== Building the SQL of a 20-step chain: {chain:.2f} ms (median of 50)")
    print(f"  goal: under 5 ms -> {'met' if chain < 5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
