"""Session entry points, the public API of the SQL modules, and deterministic SQL."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqldata import ORDERS, load_all, rows_of

import {{ cookiecutter.package_name }} as package
from {{ cookiecutter.package_name }}.errors import SQLLayerError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sql.dataframe import DataFrame
from {{ cookiecutter.package_name }}.sql.session import Session

MODULES = [
    "session",
    "dataframe",
    "materialize",
    "checks",
    "outputs",
    "columns",
    "joins",
    "grouping",
    "actions",
    "ddl",
    "rows",
    "types",
]


def test_from_settings_uses_the_project_database(settings: Settings):
    session = Session.from_settings(settings)
    load_all(session.engine)
    assert session.table("orders").count() == len(ORDERS)
    session.engine.dispose()


def test_sources_reads_the_sources_block(settings: Settings, project: Path):
    text = (
        (project / "settings.yml")
        .read_text()
        .replace("sources: {}", "sources:\n  raw_orders:\n    table: orders\n")
    )
    (project / "settings.yml").write_text(text)
    from {{ cookiecutter.package_name }}.settings import load_settings

    session = Session.from_settings(load_settings(project / "settings.yml"))
    load_all(session.engine)
    assert rows_of(session.sources("raw_orders").collect()) == rows_of(ORDERS)
    with pytest.raises(SQLLayerError, match="no source 'nope' in settings.yml.*raw_orders"):
        session.sources("nope")
    session.engine.dispose()


def test_unknown_table_lists_what_exists(engine: Engine):
    load_all(engine)
    with pytest.raises(SQLLayerError, match="no table or view 'order'.*customers, orders"):
        Session(engine).table("order")


def test_session_needs_an_engine():
    with pytest.raises(SQLLayerError, match="needs a SQLAlchemy Engine"):
        Session("sqlite://")


def test_dataframe_over_a_select_without_columns_is_refused(engine: Engine):
    with pytest.raises(SQLLayerError, match="at least one column"):
        DataFrame(select(), engine)


def test_dataframe_over_something_else_is_refused(engine: Engine):
    with pytest.raises(SQLLayerError, match="needs a select, CTE, subquery or table"):
        DataFrame("orders", engine)


@pytest.mark.parametrize("name", MODULES)
def test_public_modules_declare_all(name):
    module = importlib.import_module(f"{package.__name__}.sql.{name}")
    assert module.__all__ and all(hasattr(module, item) for item in module.__all__)


def test_sql_is_the_same_under_any_hash_seed(tmp_path):
    script = (
        "from sqlalchemy import create_engine, func, case\n"
        f"from {package.__name__}.sql.session import Session\n"
        "from sqldata import load_all\n"
        f"engine = create_engine('sqlite:///{tmp_path / 'seed.db'}')\n"
        "load_all(engine)\n"
        "o = Session(engine).table('orders')\n"
        "c = Session(engine).table('customers')\n"
        "df = o.join(c, 'customer_id', how='left').with_column('k', case((o.amount > 5, 'x')))\n"
        "print(df.where(o.id > 0).group_by('country', agg={'amount': (func.sum, 't')}).sql())\n"
    )
    paths = [str(Path(package.__file__).parents[1]), str(Path(__file__).parent)]
    outputs = set()
    for seed in ("1", "2", "12345"):
        env = {"PYTHONHASHSEED": seed, "PYTHONPATH": ":".join(paths), "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_table_names_leave_out_shadow_copies_of_builds_in_progress(engine: Engine):
    load_all(engine)
    with engine.begin() as conn:
        for shadow in ("orders__pl_tmp", "orders__pl_old", "orders__pl_stage"):
            conn.execute(text(f"CREATE TABLE {shadow} (id INTEGER)"))
    names = Session(engine).table_names()
    assert "orders" in names
    assert not [name for name in names if "__pl_" in name]
