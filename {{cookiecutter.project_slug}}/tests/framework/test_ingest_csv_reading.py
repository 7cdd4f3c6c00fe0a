"""Reading CSV objects: plain text is split in blocks, other blocks go through the csv module.

That must give the same rows, record numbers, line numbers and rejects as the csv module
reading the whole file; the property test below compares them on random text full of quotes,
line ends and ragged rows, cut into blocks of random sizes.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from {{ cookiecutter.package_name }}.ingest import CsvSource, sources
from {{ cookiecutter.package_name }}.ingest.csv_blocks import TextBlocks
from {{ cookiecutter.package_name }}.ingest.sources import ObjectProblem

COLUMNS = ["a", "b", "c"]


def read_all(path: Path, size: int = 2, columns: list[str] = COLUMNS) -> list[tuple[Any, ...]]:
    """Every record of the file as (record, line, values or reason, raw), in record order."""
    source = CsvSource(str(path))
    out: list[tuple[Any, ...]] = []
    try:
        for batch in source.read(path, columns, set(), size):
            assert batch.read <= size
            rows = list(zip(*batch.columns)) if batch.records else []
            for record, line, values, raw in zip(batch.records, batch.lines, rows, batch.raws):
                out.append((record, line, tuple(values), source.render(raw)))
            for refused in batch.refused:
                out.append((refused.record, refused.line, refused.reason, refused.raw))
    except ObjectProblem as exc:  # the whole object fails: what was read before is dropped
        return [("problem", str(exc))]
    return sorted(out)


def read_with_csv_module_only(
    path: Path, size: int = 2, columns: list[str] = COLUMNS
) -> list[tuple[Any, ...]]:
    with mock.patch.object(sources, "decodes", lambda path, encoding: False):
        return read_all(path, size, columns)


def first_lines(path: Path) -> list[int]:
    """The line each record starts on, read by the csv module one row at a time."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        next(row for row in reader if any(cell.strip() for cell in row))  # the header
        starts, before = [], reader.line_num
        for row in reader:
            if row:  # a blank line holds no record
                starts.append(before + 1)
            before = reader.line_num
    return starts


def assert_reads_as_the_csv_module(path: Path, columns: list[str], chars: int, size: int) -> None:
    """Blocks of ``chars`` give what the csv module gives, and every record's true line."""
    with mock.patch.object(TextBlocks, "chars", chars):
        expected = read_with_csv_module_only(path, size, columns)
        got = read_all(path, size, columns)
    assert got == expected
    if expected and expected[0][0] != "problem":
        assert [line for _, line, *_ in got] == first_lines(path)


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_crlf_and_lf_files_give_the_same_rows_and_lines(tmp_path: Path) -> None:
    body = ["a,b,c", "1,x,2", "3,y,4", "5,z,6"]
    lf = read_all(write(tmp_path, "\n".join(body) + "\n", "lf.csv"))
    crlf = read_all(write(tmp_path, "\r\n".join(body) + "\r\n", "crlf.csv"))
    assert lf == crlf
    assert [(record, line) for record, line, *_ in lf] == [(1, 2), (2, 3), (3, 4)]
    assert lf[0][2] == ("1", "x", "2")


def test_rows_after_a_quoted_line_break_keep_their_line_numbers(tmp_path: Path) -> None:
    text = 'a,b,c\n1,x,2\n3,"two\nlines",4\n5,short\n7,z,8\n'
    rows = read_all(write(tmp_path, text), size=10)
    assert rows == read_with_csv_module_only(tmp_path / "in.csv", size=10)
    assert rows[1][:3] == (2, 3, ("3", "two\nlines", "4"))
    assert rows[2][:3] == (3, 5, "malformed line: 2 fields where the header has 3")
    assert rows[3][:3] == (4, 6, ("7", "z", "8"))


def test_line_breaks_inside_quotes_count_as_the_file_splits_lines(tmp_path: Path) -> None:
    text = 'a,b,c\r\n1,"crlf\r\ninside",2\r\n3,"cr\rand lf\ninside",4\r\n5,x,6\r\n'
    path = write(tmp_path, text)
    rows = read_all(path, size=10)
    assert [line for _, line, *_ in rows] == [2, 4, 7] == first_lines(path)


def test_a_file_with_every_field_quoted_reads_as_the_csv_module_reads_it(tmp_path: Path) -> None:
    lines = ['"a","b","c"'] + [f'"{i}","v, {i}","{i * 2}"' for i in range(1, 301)]
    lines[150] = '"150","say ""hi""","300"'  # an escaped quote: that block goes to the csv module
    path = write(tmp_path, "\r\n".join(lines) + "\r\n")
    with mock.patch.object(TextBlocks, "chars", 2000):
        rows = read_all(path, size=64)
    assert rows == read_with_csv_module_only(path, size=64)
    assert rows[0][:3] == (1, 2, ("1", "v, 1", "2"))
    assert rows[149][:3] == (150, 151, ("150", 'say "hi"', "300"))
    assert rows[-1][:3] == (300, 301, ("300", "v, 300", "600"))


def test_a_ragged_line_after_many_plain_ones_is_refused_with_its_line(tmp_path: Path) -> None:
    lines = [f"{i},v{i},{i * 2}" for i in range(1, 501)]
    lines[399] = "400,only-two"
    rows = read_all(write(tmp_path, "a,b,c\n" + "\n".join(lines) + "\n"), size=64)
    refused = [row for row in rows if isinstance(row[2], str)]
    assert refused == [
        (400, 401, "malformed line: 2 fields where the header has 3", "400,only-two")
    ]
    assert len(rows) == 500 and rows[-1][:3] == (500, 501, ("500", "v500", "1000"))


def test_a_last_line_without_a_line_end_is_read(tmp_path: Path) -> None:
    rows = read_all(write(tmp_path, "a,b,c\n1,2,3\n4,5,6"))
    assert [values for _, _, values, _ in rows] == [("1", "2", "3"), ("4", "5", "6")]


def test_a_field_over_the_csv_size_limit_refuses_only_its_row_on_both_paths(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "a,b,c\n1,2,3\n4," + "x" * 200_000 + ",6\n7,8,9\n")
    rows = read_all(path)
    assert rows == read_with_csv_module_only(path)
    limit = csv.field_size_limit()
    assert [row[:3] for row in rows] == [
        (1, 2, ("1", "2", "3")),
        (2, 3, f"a field is over the csv size limit ({limit} characters)"),
        (3, 4, ("7", "8", "9")),
    ]


@hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(
        st.sampled_from(["1", "x", "", " ", ",", ",,", '"', '""', "\n", "\r\n", "\r", "\0", "é"]),
        max_size=40,
    ),
    width=st.integers(min_value=1, max_value=3),
    chars=st.integers(min_value=1, max_value=30),
    size=st.integers(min_value=1, max_value=4),
)
def test_block_reading_matches_the_csv_module_on_any_text(
    tmp_path: Path, body: list[str], width: int, chars: int, size: int
) -> None:
    columns = COLUMNS[:width]
    path = write(tmp_path, ",".join(columns) + "\n" + "".join(body))
    assert_reads_as_the_csv_module(path, columns, chars, size)


@st.composite
def csv_like(draw: st.DrawFn, width: int) -> str:
    """Mostly plain or all-quoted lines of ``width`` fields, now and then a line with some
    quotes, a ragged or a blank one."""
    out = []
    for _ in range(draw(st.integers(min_value=0, max_value=30))):
        kind = draw(
            st.sampled_from(["plain"] * 5 + ["all quoted"] * 2 + ["quoted", "ragged", "blank"])
        )
        if kind == "plain":
            cells = [draw(st.sampled_from(["1", "x", "", "é"])) for _ in range(width)]
        elif kind == "all quoted":
            cells = [
                draw(st.sampled_from(['"1"', '"a,b"', '""', '"é"', '","'])) for _ in range(width)
            ]
        elif kind == "quoted":
            quoted = ["1", '"q"', '"a,b"', '"two\nlines"', '"cr\r\nlf"', '""', '"']
            cells = [draw(st.sampled_from(quoted)) for _ in range(width)]
        elif kind == "ragged":
            cells = ["1"] * (width + draw(st.sampled_from([-1, 1])))
        else:
            cells = []
        out.append(",".join(cells) + draw(st.sampled_from(["\n", "\r\n"] * 3 + ["\r", ""])))
    return "".join(out)


@hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    width=st.integers(min_value=1, max_value=3),
    chars=st.integers(min_value=1, max_value=40),
    size=st.integers(min_value=1, max_value=4),
)
def test_block_reading_matches_the_csv_module_on_mostly_plain_text(
    tmp_path: Path, data: st.DataObject, width: int, chars: int, size: int
) -> None:
    columns = COLUMNS[:width]
    path = write(tmp_path, ",".join(columns) + "\n" + data.draw(csv_like(width)))
    assert_reads_as_the_csv_module(path, columns, chars, size)
