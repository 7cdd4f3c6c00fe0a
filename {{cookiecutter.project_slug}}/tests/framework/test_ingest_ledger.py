"""Exactly once per model version: re-runs skip, --force reloads, a new version replaces rows."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ingest_support import HEADER, good_rows, objects, table_rows, trades_model, write
from sqlalchemy import Engine, select, text

from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields
from {{ cookiecutter.package_name }}.ingest.runner import ingest
from {{ cookiecutter.package_name }}.ingest.tables import MODELS
from {{ cookiecutter.package_name }}.ingest.versioning import stage_hashes
from {{ cookiecutter.package_name }}.settings import Settings


@pytest.fixture
def migrated(settings: Settings, engine: Engine) -> Engine:
    upgrade(settings)
    return engine


def test_the_raw_object_is_saved_as_received_under_its_day_folder(
    settings: Settings, migrated: Engine
) -> None:
    model = trades_model()
    source = write(settings.root, "day1.csv", HEADER + good_rows(3))
    ingest(model, settings=settings)
    [obj] = objects(migrated, model.__model_name__)
    raw = Path(obj.raw_path)
    today = datetime.now(UTC)
    folder = settings.root / "data" / "raw" / model.__model_name__ / f"{today:%Y/%m/%d}"
    assert raw.parent == folder and raw.name == f"{obj.content_hash[:16]}-day1.csv"
    assert raw.read_bytes() == source.read_bytes()
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == obj.content_hash
    assert obj.bytes == source.stat().st_size
    assert not list(folder.glob(".extract-*"))


def test_every_loaded_row_names_its_object_by_a_16_character_id(
    settings: Settings, migrated: Engine
) -> None:
    """The id is on every row of the target (16 hex characters, 64 random bits: each row stays
    16 bytes smaller than with a whole UUID), and no two objects share one."""
    model = trades_model()
    write(settings.root, "a.csv", HEADER + good_rows(3))
    write(settings.root, "b.csv", HEADER + good_rows(2, start=10))
    ingest(model, settings=settings)
    ids = [obj.id for obj in objects(migrated, model.__model_name__)]
    assert len(set(ids)) == 2
    assert all(re.fullmatch(r"[0-9a-f]{16}", object_id) for object_id in ids)
    with migrated.connect() as conn:
        query = f"SELECT etl_object_id, COUNT(*) FROM {model.__table__} GROUP BY etl_object_id"
        per_object = {object_id: rows for object_id, rows in conn.execute(text(query))}
    assert sorted(per_object.values()) == [2, 3] and set(per_object) == set(ids)


def test_running_again_on_the_same_files_loads_nothing_new_and_says_so(
    settings: Settings, migrated: Engine
) -> None:
    model = trades_model()
    write(settings.root, "a.csv", HEADER + good_rows(3))
    write(settings.root, "b.csv", HEADER + good_rows(2, start=10))
    first = ingest(model, settings=settings)
    again = ingest(model, settings=settings)
    assert first.rows_affected == 5 and again.rows_affected == 0
    assert [r.status for r in again.objects] == ["skipped", "skipped"]
    assert all(r.message.startswith("already loaded") for r in again.objects)
    assert again.summary().endswith("nothing new to load (2 already loaded)")
    assert len(table_rows(migrated, model.__table__)) == 5
    assert len(objects(migrated, model.__model_name__)) == 2


def test_a_renamed_copy_of_loaded_content_is_not_loaded_twice(
    settings: Settings, migrated: Engine
) -> None:
    model = trades_model()
    write(settings.root, "a.csv", HEADER + good_rows(3))
    ingest(model, settings=settings)
    write(settings.root, "copy_of_a.csv", HEADER + good_rows(3))
    report = ingest(model, settings=settings)
    assert [r.status for r in report.objects] == ["skipped", "skipped"]
    assert len(table_rows(migrated, model.__table__)) == 3


def test_force_reloads_an_object_without_duplicating_its_rows(
    settings: Settings, migrated: Engine
) -> None:
    model = trades_model()
    write(settings.root, "a.csv", HEADER + good_rows(4))
    ingest(model, settings=settings)
    report = ingest(model, settings=settings, force=True)
    assert [r.status for r in report.objects] == ["loaded"] and report.rows_affected == 4
    assert len(table_rows(migrated, model.__table__)) == 4
    [obj] = objects(migrated, model.__model_name__)
    assert obj.attempts == 2 and obj.status == "loaded"


def _versioned(ticker: fields.Field) -> type[IngestModel]:
    """The same model ("quotes") each time, except for how ``ticker`` is transformed."""
    body = {
        "__model_name__": "quotes",
        "__table__": "quotes",
        "__source__": CsvSource("inbox/*.csv"),
        "__module__": __name__,
        "id": fields.Integer(required=True),
        "price": fields.Float(),
        "ticker": ticker,
        "day": fields.Date(required=True),
        "qty": fields.Integer(),
    }
    return type("Quotes", (IngestModel,), body)


def test_changing_a_field_transform_bumps_the_version_and_only_its_stage_hash() -> None:
    upper = _versioned(fields.UppercaseString(length=8))
    lower = _versioned(fields.LowercaseString(length=8))
    before, after = stage_hashes(upper), stage_hashes(lower)
    assert before["transform"] != after["transform"]
    assert before["extract"] == after["extract"] and before["load"] == after["load"]
    assert before["fingerprint"] != after["fingerprint"]


def test_a_new_version_loads_seen_content_again_and_replaces_the_old_rows(
    settings: Settings, migrated: Engine
) -> None:
    write(settings.root, "a.csv", HEADER + good_rows(3))
    ingest(_versioned(fields.UppercaseString(length=8)), settings=settings)
    report = ingest(_versioned(fields.LowercaseString(length=8)), settings=settings)
    assert report.version == 2 and report.rows_affected == 3
    with migrated.connect() as conn:
        versions = conn.execute(select(MODELS.c.version).where(MODELS.c.name == "quotes"))
        assert sorted(versions.scalars()) == [1, 2]
    assert [row[2] for row in table_rows(migrated, "quotes")] == ["abc1", "abc2", "abc3"]
    old, new = objects(migrated, "quotes")
    assert (old.model_version, old.status) == (1, "superseded")
    assert (new.model_version, new.status) == (2, "loaded")


def test_going_back_to_an_earlier_declaration_reuses_its_version(
    settings: Settings, migrated: Engine
) -> None:
    write(settings.root, "a.csv", HEADER + good_rows(1))
    ingest(_versioned(fields.UppercaseString(length=8)), settings=settings)
    ingest(_versioned(fields.LowercaseString(length=8)), settings=settings)
    report = ingest(_versioned(fields.UppercaseString(length=8)), settings=settings)
    assert report.version == 1 and report.rows_affected == 1
    assert [row[2] for row in table_rows(migrated, "quotes")] == ["ABC1"]


def test_reprocess_loads_old_raw_objects_with_the_new_version_after_the_inputs_are_gone(
    settings: Settings, migrated: Engine
) -> None:
    source = write(settings.root, "a.csv", HEADER + good_rows(2))
    ingest(_versioned(fields.UppercaseString(length=8)), settings=settings)
    source.unlink()
    report = ingest(_versioned(fields.LowercaseString(length=8)), settings=settings, reprocess=True)
    assert [r.status for r in report.objects] == ["loaded"]
    assert [row[2] for row in table_rows(migrated, "quotes")] == ["abc1", "abc2"]


class _Commented(IngestModel, name="commented"):
    __table__ = "commented"
    __source__ = CsvSource("inbox/*.csv")
    id = fields.Integer(required=True)
    code = fields.Method("make_code")

    def make_code(self, row):
        return f"C{row['id']}"


class _Recommented(IngestModel, name="commented"):
    __table__ = "commented"
    __source__ = CsvSource("inbox/*.csv")
    id = fields.Integer(required=True)
    code = fields.Method("make_code")

    def make_code(self, row):
        """Docstrings, comments and blank lines are not code."""

        # the code of a row
        return f"C{row['id']}"  # formatted


def test_comments_docstrings_and_whitespace_do_not_change_the_version() -> None:
    assert stage_hashes(_Commented) == stage_hashes(_Recommented)


def test_a_damaged_raw_copy_is_made_again_from_the_input(
    settings: Settings, migrated: Engine
) -> None:
    model = trades_model()
    write(settings.root, "a.csv", HEADER + good_rows(2))
    ingest(model, settings=settings)
    [first] = objects(migrated, model.__model_name__)
    Path(first.raw_path).write_text("torn", encoding="utf-8")
    ingest(model, settings=settings, force=True)
    [again] = objects(migrated, model.__model_name__)
    assert Path(again.raw_path).read_text(encoding="utf-8") == HEADER + good_rows(2)
    assert len(table_rows(migrated, model.__table__)) == 2
