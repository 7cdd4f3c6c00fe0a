"""Plain CSV lines go to COPY and LOAD DATA as they are only when the usual path would have
written the very same text: every value one its field takes unchanged, no row refused.

Chunks of a real CSV file are read as the ingest reads them; where ``PlainLines`` hands back
a chunk's text, the transform and ``text_lines`` must give the same text and refuse nothing.
Then one file is ingested on each backend by two models of the same fields, one whose rows
no code sees (plain lines may go as they are) and one with a ``post_transform`` hook that
changes nothing (every chunk is converted value by value): targets, rejects and reports match.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from engine_support import migrated
from ingest_support import write
from sqlalchemy import text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.errors import IngestError
from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields, post_transform
from {{ cookiecutter.package_name }}.ingest.date_fields import ISO_DATE
from {{ cookiecutter.package_name }}.ingest.field_base import Field, TextBacked
from {{ cookiecutter.package_name }}.ingest.plain_lines import PlainLines
from {{ cookiecutter.package_name }}.ingest.runner import IngestReport, ingest
from {{ cookiecutter.package_name }}.ingest.text_rows import text_lines
from {{ cookiecutter.package_name }}.ingest.transform import transform_batch
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]

_numbers = itertools.count()
OBJECT_ID = "0123456789abcdef0123456789abcdef"
FIELDS: dict[str, Field] = {
    "id": fields.Integer(required=True),
    "score": fields.Float(),
    "label": fields.String(length=8),
    "day": fields.Date(),
    "qty": fields.Integer(big=True),
}
for _name, _field in FIELDS.items():
    _field.__set_name__(IngestModel, _name)
HEADER = "id,score,label,day,qty\n"
# Chunks of four lines: each bad or unusual line sends its chunk the usual way.
LINES = [
    "1,0.5,alpha,2024-02-29,7",
    "2,-12.25,beta,2023-12-31,-9223372036854775",
    "3,007,γάμμα,0001-01-01,0",
    "4,1000000.000001,12345678,9999-12-31,-0",
    "5,1.5,ok,2024-01-01,2147483648000",  # chunk 2: good, a big qty
    "2147483648,1.5,over,2024-01-02,1",  # out of a 32-bit column: refused
    "7,1e5,exp,2024-01-03,1",  # an exponent: taken, but not as plain text
    "8,2.5,blank,2024-01-04,",  # a blank: NULL
    "9,2.5,feb,2023-02-29,1",  # chunk 3: not a date, refused
    "10,inf,inf,2024-01-05,1",  # not finite, refused
    "11,2.5,toolongtext,2024-01-06,1",  # over the length, refused
    "12,+3,b\\s,2024-01-07,1_000",  # a sign, a backslash, an underscore
    "13,3.5,tab\tin,2024-01-08,13",  # chunk 4: a tab inside a field (delimiter is ',')
    "14,3.5,x,2024-1-08,14",  # not ISO: refused
    "15,3.5,x,2024-01-09,15",
    "16,3.5,x,2024-01-10,16",
    "17,4.5,last,2024-02-28,17",  # chunk 5: plain again
    "18,4.5,last,2000-02-29,18",
    "19,4.5,last,1900-02-28,19",
    "20,4.5,last,2400-02-29,20",
]


def test_the_date_pattern_takes_exactly_the_dates_fromisoformat_takes() -> None:
    pattern = re.compile(ISO_DATE)
    years = [*range(0, 13), *range(1896, 1905), *range(1996, 2105), 2400, 9999, 1600, 1700]
    for year in years:
        for month in range(0, 14):
            for day in range(0, 33):
                value = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    dt.date.fromisoformat(value)
                    valid = True
                except ValueError:
                    valid = False
                assert (pattern.fullmatch(value) is not None) == valid, value


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("id", ["0", "-7", "999999999", "1000000000", "+5", "1_000", " 5", "٣", "007", "", "1.0"]),
        ("score", ["0.5", "-0", "1.", ".5", "1e5", "nan", "inf", "1" * 101, "٣.5", "+1.5"]),
        ("label", ["a", "12345678", "123456789", "", "a,b", "a\\b", "a\tb", "\ue000", " x "]),
        ("day", ["2024-02-29", "2023-02-29", "20240101", "2024-W01-1", "٢٠٢٤-01-01", ""]),
    ],
)
def test_a_field_pattern_takes_only_text_the_field_keeps_as_read(
    name: str, values: list[str]
) -> None:
    field = FIELDS[name]
    pattern = re.compile(field.plain_pattern() or "(?!)")
    taken = [value for value in values if pattern.fullmatch(value)]
    assert taken, "every case holds at least one plain value"
    for value in taken:
        converted, errors = field.convert_column([value], texts=True)
        assert errors == {}, value
        if name != "label":
            assert isinstance(converted, TextBacked) and list(converted.text) == [value]
        else:
            assert list(converted) == [value]


def test_a_field_the_user_subclassed_or_computed_has_no_pattern() -> None:
    class Even(fields.Integer):
        pass

    assert Even().plain_pattern() is None
    assert fields.UppercaseString().plain_pattern() is None
    assert fields.String(strip=True).plain_pattern() is None
    assert fields.Method("total").plain_pattern() is None
    assert fields.Date(format="%d/%m/%Y").plain_pattern() is None


def test_plain_text_is_exactly_what_the_transform_and_text_lines_write(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + "".join(f"{line}\n" for line in LINES), encoding="utf-8")
    source, plain_fields = CsvSource(str(path)), list(FIELDS.values())
    plain = PlainLines.for_load(True, plain_fields, [], OBJECT_ID)
    assert plain is not None
    taken = []
    for batch in source.read(path, list(FIELDS), set(), 4):
        lines = plain.text(batch)
        taken.append(lines is not None)
        if lines is not None:
            out = transform_batch(IngestModel(), plain_fields, batch, source.render)
            assert out.refused == []
            assert lines == text_lines(out.columns, OBJECT_ID, len(batch.records))
    assert taken == [True, False, False, False, True]
    assert PlainLines.for_load(False, plain_fields, [], OBJECT_ID) is None  # SQLite's INSERTs
    assert PlainLines.for_load(True, plain_fields, [print], OBJECT_ID) is None


def _models() -> tuple[type[IngestModel], type[IngestModel]]:
    """Two models of the same fields: rows no code sees, and rows a hook sees (unchanged)."""

    def body(table: str) -> dict[str, Any]:
        return {
            "__source__": CsvSource("inbox/*.csv"),
            "__chunk_size__": 4,
            "__table__": table,
            "__module__": __name__,
            "id": fields.Integer(required=True),
            "score": fields.Float(),
            "label": fields.String(length=8),
            "day": fields.Date(),
            "qty": fields.Integer(big=True),
        }

    def look(self: IngestModel, rows: list[dict[str, object]]) -> None:
        """Sees the rows, and so sends every chunk the usual way."""

    number = next(_numbers)  # each test's models are new ones
    plain = type(f"PlainRows{number}", (IngestModel,), body("plain_rows"))
    hooked = {**body("seen_rows"), "look": post_transform(look)}
    return plain, type(f"SeenRows{number}", (IngestModel,), hooked)


def _ingest(model: type[IngestModel], settings: Settings) -> IngestReport:
    try:
        return ingest(model, settings=settings)
    except IngestError as exc:
        assert exc.report is not None
        return exc.report


def _table(settings: Settings, table: str, model: str) -> tuple[list[Any], list[Any]]:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT id, score, label, day, qty FROM {table} ORDER BY id"))
            refused = conn.execute(
                text(
                    "SELECT r.record, r.line, r.field, r.reason, r.raw FROM etl_rejects r "
                    "JOIN etl_data_objects o ON o.id = r.object_id WHERE o.model = :model "
                    "ORDER BY r.record"
                ),
                {"model": model},
            )
            return [tuple(row) for row in rows], [tuple(row) for row in refused]
    finally:
        engine.dispose()


def test_plain_lines_load_the_rows_and_rejects_the_usual_path_loads(migrated: Settings) -> None:
    write(migrated.root, "rows.csv", HEADER + "".join(f"{line}\n" for line in LINES))
    plain, seen = _models()
    reports = [_ingest(model, migrated) for model in (plain, seen)]
    counts = [(r.total("rows_read"), r.rows_affected, r.total("rows_rejected")) for r in reports]
    assert counts == [(20, 15, 5), (20, 15, 5)]
    got = _table(migrated, "plain_rows", plain.__model_name__)
    assert got == _table(migrated, "seen_rows", seen.__model_name__)
    rows, refused = got
    assert [row[0] for row in rows] == [1, 2, 3, 4, 5, 7, 8, 12, 13, 15, 16, 17, 18, 19, 20]
    assert [reject[0] for reject in refused] == [6, 9, 10, 11, 14]
