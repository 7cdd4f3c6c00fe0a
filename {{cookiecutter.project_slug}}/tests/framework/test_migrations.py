"""Alembic: upgrade, downgrade and upgrade again; no drift between models and migrations."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.util.exc import CommandError
from sqlalchemy import Engine, inspect, text

from {{ cookiecutter.package_name }}.db import schema
from {{ cookiecutter.package_name }}.db.base import Base
from {{ cookiecutter.package_name }}.db.schema import (
    alembic_config,
    current_revision,
    downgrade,
    engine_at_head,
    head_revision,
    import_models,
    require_head,
    upgrade,
)
from {{ cookiecutter.package_name }}.errors import MigrationsPendingError
from {{ cookiecutter.package_name }}.settings import Settings


def model_tables() -> set[str]:
    import_models()
    return set(Base.metadata.tables)


def test_upgrade_creates_every_model_table(settings: Settings, engine: Engine) -> None:
    upgrade(settings)
    assert model_tables() <= set(inspect(engine).get_table_names())
    assert current_revision(engine) == head_revision(settings)


def test_downgrade_to_base_removes_them_and_upgrade_brings_them_back(
    settings: Settings, engine: Engine
) -> None:
    upgrade(settings)
    downgrade(settings, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(settings)
    assert model_tables() <= set(inspect(engine).get_table_names())


def test_models_and_migrations_do_not_drift(settings: Settings, engine: Engine) -> None:
    upgrade(settings)
    try:
        command.check(alembic_config(settings))
    except CommandError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"the ORM models and the migrations differ: {exc}")


def test_tables_the_pipeline_materializes_are_not_drift(settings: Settings, engine: Engine) -> None:
    upgrade(settings)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE daily_sales (day DATE, total INTEGER)"))
    command.check(alembic_config(settings))


def test_a_database_behind_head_is_refused_with_both_revisions(
    settings: Settings, engine: Engine
) -> None:
    with pytest.raises(MigrationsPendingError) as caught:
        require_head(settings, engine)
    head = head_revision(settings)
    assert caught.value.current is None and caught.value.head == head
    assert f"expects {head}" in str(caught.value) and "make migrate" in str(caught.value)


def test_a_database_at_head_is_accepted(settings: Settings, engine: Engine) -> None:
    upgrade(settings)
    require_head(settings, engine)


@pytest.fixture
def disposed(monkeypatch: pytest.MonkeyPatch) -> list[Engine]:
    """The engines ``engine_at_head`` made and then disposed, in order."""
    made = schema.engine_from_settings
    disposed: list[Engine] = []

    def tracked(settings: Settings) -> Engine:
        engine = made(settings)
        dispose = engine.dispose
        engine.dispose = lambda *args, **kwargs: (disposed.append(engine), dispose(*args, **kwargs))
        return engine

    monkeypatch.setattr(schema, "engine_from_settings", tracked)
    return disposed


def test_engine_at_head_refuses_a_database_behind_and_still_disposes_its_engine(
    settings: Settings, disposed: list[Engine]
) -> None:
    with pytest.raises(MigrationsPendingError):
        with engine_at_head(settings):
            pytest.fail("the block ran on a database behind head")
    assert len(disposed) == 1


def test_engine_at_head_yields_the_migrated_engine_and_disposes_it_after_the_block(
    settings: Settings, disposed: list[Engine]
) -> None:
    upgrade(settings)
    disposed.clear()  # upgrade's own check of the database
    with pytest.raises(KeyError):
        with engine_at_head(settings) as engine:
            assert current_revision(engine) == head_revision(settings) and not disposed
            raise KeyError("the block's own error")
    assert disposed == [engine]
