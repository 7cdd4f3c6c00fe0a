"""LOAD DATA reads a few megabytes of rows per statement and sets the object id itself.

Plain lines sent without the id must be exactly what the transform and ``text_lines`` write
without it, for any mix of good and bad values. On MySQL/MariaDB, one file is ingested through
LOAD DATA, whatever the size of its statements, and through the multi-row INSERTs (a connection
without LOCAL INFILE): the rows, their object ids, the rejects and the ledger's counts match.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from ingest_support import objects, rejects, write
from sqlalchemy import Engine, text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.errors import IngestError
from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields, load
from {{ cookiecutter.package_name }}.ingest.field_base import Field
from {{ cookiecutter.package_name }}.ingest.plain_lines import PlainLines
from {{ cookiecutter.package_name }}.ingest.runner import IngestReport, ingest
from {{ cookiecutter.package_name }}.ingest.text_rows import text_lines
from {{ cookiecutter.package_name }}.ingest.transform import transform_batch
from {{ cookiecutter.package_name }}.settings import Settings

_numbers = itertools.count()
HEADER = "id,score,label,day\n"
FIELDS: dict[str, Field] = {
    "id": fields.Integer(required=True),
    "score": fields.Float(),
    "label": fields.String(length=6),
    "day": fields.Date(),
}
for _name, _field in FIELDS.items():
    _field.__set_name__(IngestModel, _name)

# Values of each column, good and bad: a bad one sends its chunk the usual way.
IDS = st.sampled_from(["1", "-7", "007", "999999999", "2147483648", "", "x", "+3"])
SCORES = st.sampled_from(["0.5", "-12.25", "1e5", "", "inf", "3.", ".5", "1_0"])
LABELS = st.sampled_from(["a", "abcdef", "abcdefg", "", "b\\s", "γάμμα", "tab\tin"])
DAYS = st.sampled_from(["2024-02-29", "2023-02-29", "0001-01-01", "", "2024-1-08"])
ROWS = st.lists(st.tuples(IDS, SCORES, LABELS, DAYS).map(",".join), min_size=1, max_size=24)


@hypothesis_settings(max_examples=60, deadline=None)
@given(lines=ROWS, size=st.integers(min_value=1, max_value=6))
def test_plain_lines_without_the_id_are_what_text_lines_writes_without_it(
    lines: list[str], size: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.csv"
        path.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
        source, plain_fields = CsvSource(str(path)), list(FIELDS.values())
        plain = PlainLines.for_load(True, plain_fields, [], None)
        assert plain is not None
        for batch in source.read(path, list(FIELDS), set(), size):
            sent = plain.text(batch)
            if sent is not None:
                out = transform_batch(IngestModel(), plain_fields, batch, source.render)
                assert out.refused == []
                assert sent == text_lines(out.columns, None, len(batch.records))
                assert sent.count("\n") == len(batch.records) and "None" not in sent


def _model() -> type[IngestModel]:
    number = next(_numbers)
    body: dict[str, Any] = {
        "__source__": CsvSource("inbox/*.csv"),
        "__chunk_size__": 3,
        "__table__": f"loaded_{number}",
        "__module__": __name__,
        **{name: type(f)(**_options(f)) for name, f in FIELDS.items()},
    }
    return type(f"Loaded{number}", (IngestModel,), body)


def _options(fld: Field) -> dict[str, Any]:
    options: dict[str, Any] = {"required": fld.required}
    if isinstance(fld, fields.String):
        options["length"] = fld.length
    return options


def _ingest(model: type[IngestModel], settings: Settings, engine: Engine) -> IngestReport:
    try:
        return ingest(model, settings=settings, engine=engine)
    except IngestError as exc:
        assert isinstance(exc.report, IngestReport)
        return exc.report


def _loaded(engine: Engine, model: type[IngestModel]) -> tuple[list[Any], list[Any], Any]:
    """The target's rows (with whether each names its object), the rejects and the counts."""
    (obj,) = objects(engine, model.__model_name__)
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT id, score, label, day, etl_object_id FROM {model.__table__} ORDER BY id")
        )
        got = [(*row[:4], row[4] == obj.id) for row in rows]
    refused = [
        (r.record, r.line, r.field, r.reason, r.raw)
        for r in rejects(engine)
        if r.object_id == obj.id
    ]
    return got, refused, (obj.status, obj.rows_read, obj.rows_loaded, obj.rows_rejected)


@pytest.mark.parametrize("chars", [1, 40, 1 << 22])
def test_load_data_leaves_what_the_inserts_leave_wherever_its_statements_end(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, chars: int
) -> None:
    if settings.database_url.get_backend_name() not in ("mysql", "mariadb"):
        pytest.skip("LOAD DATA LOCAL INFILE is MySQL's")
    monkeypatch.setattr(load, "LOAD_DATA_CHARS", chars)
    upgrade(settings)
    lines = [
        *(f"{i},{i}.5,l{i},2024-01-{i:02d}" for i in range(1, 8)),
        "8,1e5,exp,2024-01-08",  # taken, but not as plain text
        "9,2.5,toolong,2024-01-09",  # refused: over the length
        *(f"{i},-{i},m{i},2023-12-{i - 9:02d}" for i in range(10, 17)),
        "17,,,",  # NULLs
        "2147483648,1,big,2024-01-01",  # refused: out of range
        *(f"{i},{i},n,2000-02-29" for i in range(19, 26)),
    ]
    write(settings.root, "rows.csv", HEADER + "".join(f"{line}\n" for line in lines))
    bulk = make_engine(settings.database_url.update_query_dict({"local_infile": "1"}))
    inserts = make_engine(settings.database_url.update_query_dict({"local_infile": "0"}))
    try:
        models = _model(), _model()
        for model, engine in zip(models, (bulk, inserts)):
            report = _ingest(model, settings, engine)
            assert (report.rows_affected, report.total("rows_rejected")) == (23, 2)
        by_load_data, by_inserts = (_loaded(bulk, model) for model in models)
    finally:
        bulk.dispose()
        inserts.dispose()
    assert by_load_data == by_inserts
    rows, refused, counts = by_load_data
    assert all(row[4] for row in rows) and len(rows) == 23
    assert [r[0] for r in refused] == [9, 18] and counts[1:] == (25, 23, 2)
