"""Where an ingest model's data comes from, and how a saved raw object is read back in chunks.

A source names its inputs (``locate``), writes one input as received (``fetch``) and reads a
raw object as batches of columns (``read``). Rows that cannot even be read (a CSV line with
the wrong number of fields, bytes that are not valid in the file's encoding, a JSON line that
does not parse) are refused there with their line; a problem with the whole file is an
:class:`ObjectProblem`.
"""

from __future__ import annotations

import copy
import csv
import glob
import io
import itertools
import json
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from .batches import Batch, ObjectProblem, Refused
from .csv_blocks import (
    Quoted,
    TextBlocks,
    decodes,
    first_lines,
    line_count,
    pick_columns,
    plain_batch,
    row_problem,
    split_batch,
    valid_text,
)
from .long_lines import OVERSIZED, CappedText

if TYPE_CHECKING:
    from .model import IngestModel

__all__ = [
    "Batch",
    "CsvSource",
    "GeneratorSource",
    "JsonLinesSource",
    "ObjectProblem",
    "ParquetSource",
    "Refused",
    "Source",
]


class _Rows(Protocol):
    """What ``csv.reader`` returns: rows of fields, and the line it has read up to."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


class Source:
    """Base of the sources; ``suffix`` is the raw object's file extension."""

    suffix = ""

    def locate(self, root: Path, given: Sequence[str] = ()) -> list[str]:
        """The inputs to ingest: ``given`` paths/globs, else the source's own pattern."""
        raise NotImplementedError

    def fetch(self, model: IngestModel, uri: str, out: IO[bytes]) -> None:
        """Write the input ``uri`` as received into ``out``."""
        with open(uri, "rb") as handle:
            while block := handle.read(1 << 20):
                out.write(block)

    def read(
        self, path: Path, columns: Sequence[str], required: set[str], size: int
    ) -> Iterator[Batch]:
        """Read a raw object back as batches holding ``columns`` in that order."""
        raise NotImplementedError

    def render(self, raw: object) -> str:
        """A record as text, for the rejects table."""
        return str(raw)

    def declaration(self) -> str:
        """A stable text of this source's settings, for the model's version hash."""
        return repr(self)

    def reading(self, path: Path) -> Source | None:
        """This source reading the file ``path`` instead of its own inputs (a task test's
        given content); None for a source that does not read files."""
        return None


class _FileSource(Source):
    def __init__(self, pattern: str):
        self.pattern = pattern

    def locate(self, root: Path, given: Sequence[str] = ()) -> list[str]:
        patterns = list(given) or [str(root / self.pattern)]
        found: list[str] = []
        for pattern in patterns:
            matches = (
                sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
            )
            found.extend(os.path.abspath(path) for path in matches)
        missing = [path for path in found if not os.path.isfile(path)]
        if missing:
            raise ObjectProblem(f"no such file: {', '.join(missing)}")
        return list(dict.fromkeys(found))

    def reading(self, path: Path) -> Source | None:
        source = copy.copy(self)
        source.pattern = str(path)
        return source

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "pattern")
        return f"{type(self).__name__}({self.pattern!r}{', ' if options else ''}{options})"


class CsvSource(_FileSource):
    """CSV files matching a glob (relative to the project folder), with a header row."""

    suffix = ".csv"

    def __init__(
        self,
        pattern: str,
        *,
        delimiter: str = ",",
        quotechar: str = '"',
        encoding: str = "utf-8-sig",
    ):
        super().__init__(pattern)
        self.delimiter = delimiter
        self.quotechar = quotechar
        self.encoding = encoding

    def read(
        self, path: Path, columns: Sequence[str], required: set[str], size: int
    ) -> Iterator[Batch]:
        # surrogateescape lets a bad byte reach the row that holds it, so only that row is
        # refused instead of the whole file failing.
        checked = decodes(path, self.encoding)
        with open(path, encoding=self.encoding, errors="surrogateescape", newline="") as raw:
            handle = CappedText(raw, self.delimiter, self.quotechar, 1)
            reader = self._reader(handle)
            header = self._header(reader, path)
            width, picks = len(header), self._picks(header, columns, required, path)
            handle.width = width
            record, line = 0, reader.line_num
            if not checked:  # every row is checked for bad bytes: the csv module reads all
                reader = self._reader(handle)
                yield from self._csv_batches(reader, handle, record, line, width, picks, size)
                return
            blocks = TextBlocks(handle, self.delimiter, self.quotechar, width, size)
            for block in blocks:
                if isinstance(block, str):  # text the csv module must read, to a record's end
                    reader = self._reader(itertools.chain(io.StringIO(block, newline=""), handle))
                    record, line = yield from self._csv_batches(
                        reader, handle, record, line, width, picks, size, stop=line_count(block)
                    )
                    continue
                if isinstance(block, Quoted):
                    batch = split_batch(block.fields, block, record, line, width)
                    yield pick_columns(batch, picks, width)
                else:
                    yield plain_batch(block, record, line, width, picks, self.delimiter)
                record, line = record + len(block), line + len(block)

    def _csv_batches(
        self,
        reader: _Rows,
        text: CappedText,
        record: int,
        line: int,
        width: int,
        picks: list[int | None],
        size: int,
        stop: int | None = None,
    ) -> Generator[Batch, None, tuple[int, int]]:
        """Batches of the rows ``reader`` reads, until a batch ends on line ``stop`` or later
        (when given; reading on is harmless); returns the record and line numbers reached.
        Rows are checked one by one once ``text`` has cut out a line with an over-long field."""
        while True:
            start = reader.line_num
            try:
                chunk = list(itertools.islice(reader, size))
            except csv.Error as exc:
                failed = line + reader.line_num
                raise ObjectProblem(f"line {failed}: unreadable CSV: {exc}") from None
            if not chunk:
                return record, line + reader.line_num
            first = line + start
            if reader.line_num - start == len(chunk):  # one line per row
                starts: Sequence[int] = range(first + 1, first + len(chunk) + 1)
            else:
                starts = first_lines(chunk, first, self.delimiter)
            checked = stop is not None and not text.replaced
            batch = self._batch(chunk, record, starts, width, checked)
            record += batch.read
            yield pick_columns(batch, picks, width)
            if stop is not None and reader.line_num >= stop:
                return record, line + reader.line_num

    def _reader(self, lines: Iterable[str]) -> _Rows:
        return csv.reader(lines, delimiter=self.delimiter, quotechar=self.quotechar, strict=True)

    def _batch(
        self, chunk: list[list[str]], record: int, starts: Sequence[int], width: int, checked: bool
    ) -> Batch:
        """Split a chunk into good rows and refused ones (the common all-good case in C).

        ``starts`` holds the line each row of the chunk starts on."""
        if set(map(len, chunk)) == {width} and (checked or valid_text(chunk)):
            numbers = range(record + 1, record + len(chunk) + 1)
            return Batch([], numbers, starts, chunk, texts=True)
        raws: list[list[str]] = []
        records: list[int] = []
        lines: list[int | None] = []
        batch = Batch([], records, lines, raws, texts=True)
        for row, line in zip(chunk, starts):
            if not row:
                continue  # a blank line holds no record
            record += 1
            problem = row_problem(row, width)
            if problem:
                batch.refused.append(Refused(record, line, None, problem, self.render(row)))
                continue
            raws.append(row)
            records.append(record)
            lines.append(line)
        return batch

    def _header(self, reader: _Rows, path: Path) -> list[str]:
        try:
            header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        except csv.Error as exc:
            raise ObjectProblem(f"line {reader.line_num}: unreadable CSV header: {exc}") from None
        if header is None:
            size = os.path.getsize(path)
            what = (
                "is empty (0 bytes)"
                if size == 0
                else f"has no header row ({size} bytes, all blank)"
            )
            raise ObjectProblem(f"{what}; a CSV object needs a header row naming its columns")
        if row_problem(header, len(header)):
            raise ObjectProblem(f"line {reader.line_num}: the header is not valid {self.encoding}")
        return [name.strip() for name in header]

    @staticmethod
    def _picks(
        header: list[str], columns: Sequence[str], required: set[str], path: Path
    ) -> list[int | None]:
        dupes = sorted({name for name in header if header.count(name) > 1})
        if dupes:
            raise ObjectProblem(f"the header names {', '.join(map(repr, dupes))} more than once")
        absent = [name for name in columns if name in required and name not in header]
        if absent:
            raise ObjectProblem(
                f"the header has no column {', '.join(map(repr, absent))}, which a required field "
                f"reads; its columns are: {', '.join(header)}"
            )
        return [header.index(name) if name in header else None for name in columns]

    def render(self, raw: object) -> str:
        text = self.delimiter.join(raw) if isinstance(raw, list) else str(raw)  # a row, or a line
        text = text.replace(OVERSIZED, "<over the size limit>") if OVERSIZED in text else text
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class JsonLinesSource(_FileSource):
    """JSON Lines files matching a glob: one JSON object per line."""

    suffix = ".jsonl"

    def read(
        self, path: Path, columns: Sequence[str], required: set[str], size: int
    ) -> Iterator[Batch]:
        with open(path, "rb") as handle:
            numbered = ((n, line) for n, line in enumerate(handle, 1) if line.strip())
            record = 0
            while chunk := list(itertools.islice(numbered, size)):
                values: list[dict[str, object]] = []
                records: list[int] = []
                lines: list[int | None] = []
                batch = Batch([], records, lines, values)
                for line_no, line in chunk:
                    record += 1
                    value, problem = _json_record(line)
                    if problem:
                        batch.refused.append(
                            Refused(record, line_no, None, problem, self.render(line))
                        )
                        continue
                    records.append(record)
                    lines.append(line_no)
                    values.append(value)
                batch.columns = [[row.get(name) for row in values] for name in columns]
                yield batch

    def render(self, raw: object) -> str:
        if isinstance(raw, bytes):
            return raw.decode("utf-8", "replace").rstrip("\r\n")
        return json.dumps(raw, default=str, ensure_ascii=False)


def _json_record(line: bytes) -> tuple[dict[str, object], str | None]:
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return (
            {},
            f"encoding error: byte 0x{line[exc.start:exc.start + 1].hex()} is not valid UTF-8",
        )
    except json.JSONDecodeError as exc:
        return {}, f"not valid JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(value, dict):
        return {}, f"a JSON line must hold an object, got {type(value).__name__}"
    return value, None


class ParquetSource(_FileSource):
    """Parquet files matching a glob (needs pyarrow); ``line`` in rejects is the row index."""

    suffix = ".parquet"

    def read(
        self, path: Path, columns: Sequence[str], required: set[str], size: int
    ) -> Iterator[Batch]:
        try:
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - depends on the environment
            raise ObjectProblem("reading Parquet needs pyarrow: pip install pyarrow") from None
        try:
            parquet = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise ObjectProblem(f"not a readable Parquet file: {exc}") from None
        names = parquet.schema_arrow.names
        absent = [name for name in columns if name in required and name not in names]
        if absent:
            raise ObjectProblem(
                f"the file has no column {', '.join(map(repr, absent))}, which a required field "
                f"reads; its columns are: {', '.join(names)}"
            )
        present = [name for name in columns if name in names]
        record = 0
        for table in parquet.iter_batches(batch_size=size, columns=present):
            data = table.to_pydict()
            count = table.num_rows
            numbers = list(range(record + 1, record + count + 1))
            record += count
            cols = [data[name] if name in data else [None] * count for name in columns]
            yield Batch(cols, numbers, [n - 1 for n in numbers], numbers)

    def render(self, raw: object) -> str:
        return f"row {raw}"


class GeneratorSource(JsonLinesSource):
    """Records from a model method (API pages, a queue...), saved as JSON Lines when extracted.

    ``method`` names a method of the model that yields dicts, or lists of dicts (pages).
    """

    def __init__(self, method: str):
        super().__init__("")
        self.method = method

    def locate(self, root: Path, given: Sequence[str] = ()) -> list[str]:
        return [f"generator:{self.method}"]

    def reading(self, path: Path) -> Source | None:
        return None

    def fetch(self, model: IngestModel, uri: str, out: IO[bytes]) -> None:
        produce: Callable[[], Iterable[object]] = getattr(model, self.method)
        for item in produce():
            for row in item if isinstance(item, list) else [item]:
                out.write(json.dumps(row, default=str, ensure_ascii=False).encode("utf-8") + b"\n")

    def __repr__(self) -> str:
        return f"GeneratorSource({self.method!r})"
