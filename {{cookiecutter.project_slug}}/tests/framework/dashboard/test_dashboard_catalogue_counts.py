"""The Tables page's catalogue counts small tables exactly and estimates only the large ones,
never below what it saw, so listing a ledger of millions of task runs does not count them."""

from __future__ import annotations

from sqlalchemy import Engine, text

from {{ cookiecutter.package_name }}.dashboard.queries import relations


def test_a_table_above_the_bound_is_estimated_and_counted_exactly_on_demand(
    engine: Engine,
) -> None:
    big = relations.EXACT_UP_TO + 7
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE wide_output (n INTEGER)"))
        conn.execute(text("CREATE TABLE small_output (n INTEGER)"))
        conn.execute(
            text("INSERT INTO wide_output (n) VALUES (:n)"), [{"n": i} for i in range(big)]
        )
        conn.execute(text("INSERT INTO small_output (n) VALUES (1), (2), (3)"))
    with engine.connect() as conn:
        catalogue = relations.list_relations(conn).set_index("name")
        assert catalogue.at["small_output", "rows"] == 3
        assert not catalogue.at["small_output", "estimated"]
        wide = catalogue.loc["wide_output"]
        if engine.dialect.name == "sqlite":  # the largest rowid: there is always an estimate
            assert wide["estimated"] and wide["rows"] == big
        assert (
            wide["rows"] == big if not wide["estimated"] else wide["rows"] > relations.EXACT_UP_TO
        )
        assert relations.row_count(conn, "wide_output") == big
