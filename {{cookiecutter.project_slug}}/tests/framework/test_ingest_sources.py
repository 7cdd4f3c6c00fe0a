"""JSON Lines, Parquet and generator sources; computed fields; hooks at each stage."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_support import objects, rejects
from sqlalchemy import Engine, text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.errors import IngestError
from {{ cookiecutter.package_name }}.ingest import (
    CsvSource,
    GeneratorSource,
    IngestModel,
    JsonLinesSource,
    ParquetSource,
    fields,
    on_load_commit,
    post_extract,
    post_transform,
    pre_extract,
)
from {{ cookiecutter.package_name }}.ingest.runner import ingest
from {{ cookiecutter.package_name }}.settings import Settings


@pytest.fixture
def migrated(settings: Settings, engine: Engine) -> Engine:
    upgrade(settings)
    return engine


def select_all(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


class Events(IngestModel):
    __table__ = "events"
    __source__ = JsonLinesSource("inbox/*.jsonl")
    id = fields.Integer(required=True)
    kind = fields.LowercaseString(length=10)
    at = fields.DateTime(required=True)


def test_json_lines_load_and_bad_lines_are_rejected_with_their_line(
    settings: Settings, migrated: Engine
) -> None:
    lines = [
        json.dumps({"id": 1, "kind": "Click", "at": "2024-01-02T03:04:05"}),
        "{not json",
        json.dumps({"id": 2, "kind": "View"}),
        json.dumps([1, 2]),
        json.dumps({"id": 3, "kind": "VIEW", "at": "2024-01-02 10:00:00", "extra": True}),
    ]
    (settings.root / "inbox").mkdir()
    (settings.root / "inbox" / "e.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(Events, settings=settings)
    [obj] = objects(migrated, "events")
    assert (obj.rows_read, obj.rows_loaded, obj.rows_rejected) == (5, 2, 3)
    found = [(r.line, r.reason) for r in rejects(migrated)]
    assert found[0][0] == 2 and found[0][1].startswith("not valid JSON")
    assert found[1] == (3, "at: required value is missing")
    assert found[2] == (4, "a JSON line must hold an object, got list")
    assert [row[1] for row in select_all(migrated, "SELECT id, kind FROM events ORDER BY id")] == [
        "click",
        "view",
    ]


class Readings(IngestModel):
    __table__ = "readings"
    __source__ = ParquetSource("inbox/*.parquet")
    sensor = fields.String(required=True, length=20)
    value = fields.Float()
    day = fields.Date()


def test_parquet_files_load_with_native_types(settings: Settings, migrated: Engine) -> None:
    (settings.root / "inbox").mkdir()
    table = pa.table(
        {
            "sensor": ["a", "b", None],
            "value": [1.5, None, 3.0],
            "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)],
        }
    )
    pq.write_table(table, settings.root / "inbox" / "r.parquet")
    ingest(Readings, settings=settings)
    [obj] = objects(migrated, "readings")
    assert (obj.rows_read, obj.rows_loaded, obj.rows_rejected) == (3, 2, 1)
    assert [r.line for r in rejects(migrated)] == [2]
    assert select_all(migrated, "SELECT sensor, value FROM readings ORDER BY sensor") == [
        ("a", 1.5),
        ("b", None),
    ]


PAGES = [
    [{"first": "ada", "last": "lovelace", "born": "1815-12-10"}],
    [{"first": "alan", "last": "turing"}],
]


class People(IngestModel):
    __table__ = "people"
    __source__ = GeneratorSource("pages")
    first = fields.TitlecaseString(required=True)
    last = fields.UppercaseString(required=True)
    born = fields.Date()
    email = fields.Method("define_email", type=fields.String(length=80))

    calls: list[str] = []

    def pages(self):
        yield from PAGES

    def define_email(self, row: dict[str, Any]) -> str:
        return f"{row['first']}.{row['last']}@example.com".lower()

    @pre_extract
    def note_start(self, uri: str) -> None:
        self.calls.append(f"pre_extract {uri}")

    @post_extract
    def note_raw(self, obj) -> None:
        self.calls.append(f"post_extract {obj.bytes > 0}")

    @post_transform
    def mark(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["last"] = row["last"] + "!"

    @on_load_commit
    def note_commit(self, obj) -> None:
        self.calls.append(f"on_load_commit {obj.rows_loaded}")


def test_a_generator_source_is_saved_as_json_lines_and_computes_fields(
    settings: Settings, migrated: Engine
) -> None:
    People.calls.clear()
    ingest(People, settings=settings)
    rows = select_all(migrated, "SELECT first, last, email FROM people ORDER BY first")
    assert rows == [
        ("Ada", "LOVELACE!", "ada.lovelace@example.com"),
        ("Alan", "TURING!", "alan.turing@example.com"),
    ]
    [obj] = objects(migrated, "people")
    assert obj.source_uri == "generator:pages" and obj.raw_path.endswith("-pages.jsonl")
    with open(obj.raw_path, encoding="utf-8") as raw:
        assert [json.loads(line) for line in raw] == [row for page in PAGES for row in page]
    assert People.calls == ["pre_extract generator:pages", "post_extract True", "on_load_commit 2"]


def test_a_generator_that_yields_the_same_data_again_loads_nothing_new(
    settings: Settings, migrated: Engine
) -> None:
    ingest(People, settings=settings)
    report = ingest(People, settings=settings)
    assert [r.status for r in report.objects] == ["skipped"]
    assert len(select_all(migrated, "SELECT first FROM people")) == 2


class Mixed(IngestModel):
    __table__ = "mixed"
    __source__ = CsvSource("inbox/*.csv")
    id = fields.Integer(required=True, big=True)
    note = fields.String(length=40)
    amount = fields.Decimal(precision=12, scale=2)
    paid = fields.Boolean()
    at = fields.DateTime(format="%Y-%m-%d %H:%M:%S.%f")
    ratio = fields.Float()


AWKWARD = 'tab\there "q" back\\slash\nnew line é'


def round_trip(settings: Settings, migrated: Engine, engine: Engine | None = None) -> None:
    (settings.root / "inbox").mkdir()
    with open(settings.root / "inbox" / "m.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "note", "amount", "paid", "at", "ratio"])
        writer.writerow([2**40, AWKWARD, "12.50", "yes", "2024-01-02 03:04:05.123456", "0.1"])
        writer.writerow([2, r"\N", "", "no", "", ""])
    ingest(Mixed, settings=settings, engine=engine)
    rows = select_all(migrated, "SELECT id, note, amount, paid, at, ratio FROM mixed ORDER BY id")
    assert [row[0] for row in rows] == [2, 2**40]
    second, first = rows
    assert first[1] == AWKWARD
    assert decimal.Decimal(str(first[2])) == decimal.Decimal("12.50") and bool(first[3]) is True
    assert str(first[4]).startswith("2024-01-02 03:04:05.123456") and first[5] == 0.1
    assert second[1] == r"\N" and second[3] in (False, 0)
    assert (second[2], second[4], second[5]) == (None, None, None)


def test_every_type_and_awkward_text_round_trips_through_the_bulk_load(
    settings: Settings, migrated: Engine
) -> None:
    round_trip(settings, migrated)


def test_mysql_without_local_infile_falls_back_to_multi_row_inserts_losslessly(
    settings: Settings, migrated: Engine
) -> None:
    if migrated.dialect.name not in ("mysql", "mariadb"):
        pytest.skip("LOAD DATA LOCAL INFILE is MySQL's")
    engine = make_engine(settings.database_url.update_query_dict({"local_infile": "0"}))
    try:
        round_trip(settings, migrated, engine)
    finally:
        engine.dispose()


class Guarded(IngestModel):
    __table__ = "guarded"
    __source__ = CsvSource("inbox/*.csv")
    id = fields.Integer(required=True)

    @pre_extract
    def refuse_drafts(self, uri: str) -> None:
        if "draft" in uri:
            raise ValueError("drafts are not loaded")


def test_a_pre_extract_hook_that_raises_refuses_only_that_input(
    settings: Settings, migrated: Engine
) -> None:
    (settings.root / "inbox").mkdir()
    (settings.root / "inbox" / "draft.csv").write_text("id\n1\n", encoding="utf-8")
    (settings.root / "inbox" / "final.csv").write_text("id\n2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="ValueError: drafts are not loaded") as caught:
        ingest(Guarded, settings=settings)
    assert [r.status for r in caught.value.report.objects] == ["failed", "loaded"]
    assert select_all(migrated, "SELECT id FROM guarded") == [(2,)]
