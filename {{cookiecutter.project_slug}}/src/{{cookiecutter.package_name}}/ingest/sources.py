"""Where an ingest model's data comes from, and how a saved raw object is read back in chunks.

A source names its inputs (``locate``), writes one input as received (``fetch``) and reads a
raw object as batches of columns (``read``). Rows that cannot even be read (a CSV line with
the wrong number of fields, bytes that are not valid in the file's encoding, a JSON line that
does not parse) are refused there with their line; a problem with the whole file is an
:class:`ObjectProblem`.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import itertools
import json
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

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


class ObjectProblem(Exception):
    """The whole object cannot be read; the message names what to fix."""


@dataclass(frozen=True)
class Refused:
    """A record that goes to the rejects table: where it was, which field, why."""

    record: int
    line: int | None
    field: str | None
    reason: str
    raw: str | None


@dataclass
class Batch:
    """Up to ``chunk_size`` records: good ones as columns, refused ones aside."""

    columns: list[Sequence[Any]]
    records: Sequence[int]  # record number (1-based) of each good row
    lines: Sequence[int | None]  # line (or row index) of each good row in the raw object
    raws: list[Any]  # each good row as read, rendered only if it is rejected later
    refused: list[Refused] = field(default_factory=list)
    texts: bool = False  # every value is a string (CSV): fields need not check types

    @property
    def read(self) -> int:
        return len(self.records) + len(self.refused)


class Source:
    """Base of the sources; ``suffix`` is the raw object's file extension."""

    suffix = ""

    def locate(self, root: Path, given: Sequence[str] = ()) -> list[str]:
        """The inputs to ingest: ``given`` paths/globs, else the source's own pattern."""
        raise NotImplementedError

    def fetch(self, model: Any, uri: str, out: IO[bytes]) -> None:
        """Write the input ``uri`` as received into ``out``."""
        with open(uri, "rb") as handle:
            while block := handle.read(1 << 20):
                out.write(block)

    def read(
        self, path: Path, columns: Sequence[str], required: set[str], size: int
    ) -> Iterator[Batch]:
        """Read a raw object back as batches holding ``columns`` in that order."""
        raise NotImplementedError

    def render(self, raw: Any) -> str:
        """A record as text, for the rejects table."""
        return str(raw)

    def declaration(self) -> str:
        """A stable text of this source's settings, for the model's version hash."""
        return repr(self)


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
        checked = _decodes(path, self.encoding)
        with open(path, encoding=self.encoding, errors="surrogateescape", newline="") as handle:
            reader = self._reader(handle)
            header = self._header(reader, path)
            width, picks = len(header), self._picks(header, columns, required, path)
            record, line = 0, reader.line_num
            if not checked:  # every row is checked for bad bytes: the csv module reads all
                yield from self._csv_batches(self._reader(handle), record, line, width, picks, size)
                return
            blocks = _TextBlocks(handle, self.delimiter, self.quotechar, width, size)
            for block in blocks:
                if isinstance(block, str):  # text the csv module must read, to a record's end
                    reader = self._reader(itertools.chain(io.StringIO(block, newline=""), handle))
                    record, line = yield from self._csv_batches(
                        reader, record, line, width, picks, size, stop=_line_count(block)
                    )
                    continue
                if isinstance(block, _Quoted):
                    fields: list[str] = block.fields
                else:
                    fields = self.delimiter.join(block).split(self.delimiter)
                yield self._columns(_split_batch(fields, block, record, line, width), picks, width)
                record, line = record + len(block), line + len(block)

    def _csv_batches(
        self,
        reader: Any,
        record: int,
        line: int,
        width: int,
        picks: list[int | None],
        size: int,
        stop: int | None = None,
    ) -> Generator[Batch, None, tuple[int, int]]:
        """Batches of the rows ``reader`` reads, until a batch ends on line ``stop`` or later
        (when given; reading on is harmless); returns the record and line numbers reached."""
        checked = stop is not None
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
                starts = _first_lines(chunk, first, self.delimiter)
            batch = self._batch(chunk, record, starts, width, checked)
            record += batch.read
            yield self._columns(batch, picks, width)
            if stop is not None and reader.line_num >= stop:
                return record, line + reader.line_num

    def _reader(self, lines: Iterable[str]) -> Any:
        return csv.reader(lines, delimiter=self.delimiter, quotechar=self.quotechar, strict=True)

    @staticmethod
    def _columns(batch: Batch, picks: list[int | None], width: int) -> Batch:
        """Fill ``batch.columns`` with the picked CSV columns, in the model's field order."""
        if batch.columns:
            by_index = batch.columns
        else:
            by_index = list(zip(*batch.raws)) if batch.raws else [()] * width
        count = len(batch.records)
        batch.columns = [by_index[i] if i is not None else (None,) * count for i in picks]
        return batch

    def _batch(
        self, chunk: list[list[str]], record: int, starts: Sequence[int], width: int, checked: bool
    ) -> Batch:
        """Split a chunk into good rows and refused ones (the common all-good case in C).

        ``starts`` holds the line each row of the chunk starts on."""
        if set(map(len, chunk)) == {width} and (checked or _valid_text(chunk)):
            records = range(record + 1, record + len(chunk) + 1)
            return Batch([], records, starts, chunk, texts=True)
        batch = Batch([], [], [], [], texts=True)
        for row, line in zip(chunk, starts):
            if not row:
                continue  # a blank line holds no record
            record += 1
            problem = _row_problem(row, width)
            if problem:
                batch.refused.append(Refused(record, line, None, problem, self.render(row)))
                continue
            batch.raws.append(row)
            batch.records.append(record)
            batch.lines.append(line)
        return batch

    def _header(self, reader: Any, path: Path) -> list[str]:
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
        if _row_problem(header, len(header)):
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

    def render(self, raw: Any) -> str:
        text = raw if isinstance(raw, str) else self.delimiter.join(raw)
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class _TextBlocks:
    """A CSV file's text in blocks: plain lines, quoted rows, or a text for the csv module.

    Plain text has no quote character, lone carriage return, blank line or over-long line,
    and every line has exactly the header's number of fields: there the csv module
    would read each line as ``line.split(delimiter)``, which splitting a whole block at once
    does several times faster. A block whose every field is quoted (``"a","b,c"``), with no
    quote inside a field, is split as fast at ``","``. Any other block is handed to the csv
    module, which reads it and on to the end of a batch of records; the next block may be
    split again.
    """

    chars = 1 << 20  # how much text to read at a time

    def __init__(self, handle: IO[str], delimiter: str, quote: str, width: int, size: int):
        self.handle, self.delimiter, self.quote = handle, delimiter, quote
        self.width, self.size = width, size
        self.limit = csv.field_size_limit()

    def __iter__(self) -> Iterator[list[str] | _Quoted | str]:
        """Lists of up to ``size`` plain lines, rows of a block whose every field is quoted, or
        a text that is neither, each after every line before it."""
        pending: list[str] = []
        while text := self.handle.read(self.chars):
            if text[-1] != "\n":
                text += self.handle.readline()  # end the block at the end of a line
            lines = self._lines(text)
            quoted = bool(self.quote) and self.quote in text
            if lines is not None and not quoted and self._plain(lines):
                pending.extend(lines)
                yield from self._take(pending, self.size)
                continue
            yield from self._take(pending, 1)
            fields = self._quoted_fields(lines) if lines is not None and quoted else None
            if fields is None:
                yield text
                continue
            step = self.size * self.width
            for start in range(0, len(fields), step):
                yield _Quoted(fields[start : start + step], self.width, self.delimiter)
        yield from self._take(pending, 1)

    def _take(self, pending: list[str], least: int) -> Iterator[list[str]]:
        """Blocks of up to ``size`` lines off the front of ``pending`` while it holds ``least``."""
        while pending and len(pending) >= least:
            block = pending[: self.size]
            del pending[: self.size]
            yield block

    def _lines(self, text: str) -> list[str] | None:
        """The lines of a block whose lines all end in LF or all in CRLF, none over-long."""
        if "\r" in text:  # every line must end in CRLF: no lone CR or LF inside a line
            lines = text.split("\r\n")
            breaks = len(lines) - 1
            if text.count("\n") != breaks or text.count("\r") != breaks:
                return None
        else:
            lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        if max(map(len, lines)) > self.limit:
            return None
        return lines

    def _plain(self, lines: list[str]) -> bool:
        """Every line has the header's number of fields, and none is blank."""
        counts = set(map(str.count, lines, itertools.repeat(self.delimiter)))
        return counts == {self.width - 1} and "" not in lines

    def _quoted_fields(self, lines: list[str]) -> list[str] | None:
        """The fields of lines that are each ``"f1","f2",...`` with no quote inside a field.

        Each line starts and ends with a quote and holds two per field; splitting the block at
        every quote-delimiter-quote must then give exactly that many fields, so none of them
        can hold a quote, and the csv module would read each line as these fields."""
        quote, width = self.quote, self.width
        if set(map(str.count, lines, itertools.repeat(quote))) != {2 * width}:
            return None
        starts = all(map(str.startswith, lines, itertools.repeat(quote)))
        if not (starts and all(map(str.endswith, lines, itertools.repeat(quote)))):
            return None
        fields = self.delimiter.join(lines)[1:-1].split(quote + self.delimiter + quote)
        return fields if len(fields) == len(lines) * width else None


@dataclass
class _Quoted:
    """Rows of a block whose every field was quoted: their fields, side by side in one list.

    ``block[i]`` is row i as the csv module's row would be rendered (its fields joined)."""

    fields: list[str]
    width: int
    delimiter: str

    def __len__(self) -> int:
        return len(self.fields) // self.width

    def __getitem__(self, index: int) -> str:
        return self.delimiter.join(self.fields[index * self.width : (index + 1) * self.width])


def _breaks(text: str) -> int:
    """How many line ends ``text`` holds as the file is split into lines: CRLF, CR or LF."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _line_count(text: str) -> int:
    """How many lines the file's line iteration makes of ``text``."""
    return _breaks(text) + (not text.endswith(("\n", "\r")))


def _first_lines(chunk: list[list[str]], before: int, delimiter: str) -> list[int]:
    """The line each row starts on, when some rows span lines (a quoted line break).

    A row takes one line plus one per line break inside its fields: CRLF, CR or LF, as the
    file is split into lines."""
    starts, line = [], before + 1
    for row in chunk:
        starts.append(line)
        text = delimiter.join(row)
        line += 1
        if "\n" in text or "\r" in text:
            line += _breaks(text)
    return starts


def _split_batch(
    fields: list[str], raws: Sequence[Any], record: int, line: int, width: int
) -> Batch:
    """A batch of one-line rows whose fields are side by side in ``fields``: each column is
    a slice of it."""
    count = len(raws)
    return Batch(
        [fields[i::width] for i in range(width)],
        range(record + 1, record + count + 1),
        range(line + 1, line + count + 1),
        raws,  # type: ignore[arg-type]
        texts=True,
    )


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes cleanly (one fast pass; then rows need no check)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _valid_text(chunk: list[list[str]]) -> bool:
    """No undecodable byte anywhere in the chunk (checked on one joined string)."""
    joined = "\x1f".join(map("".join, chunk))
    if joined.isascii():
        return True
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _row_problem(row: list[str], width: int) -> str | None:
    if len(row) != width:
        return f"malformed line: {len(row)} fields where the header has {width}"
    joined = "".join(row)
    if not joined.isascii():
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError as exc:
            byte = joined[exc.start].encode("utf-8", "surrogateescape")
            return f"encoding error: byte 0x{byte.hex()} is not valid text in this file's encoding"
    return None


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
                batch = Batch([], [], [], [])
                for line_no, line in chunk:
                    record += 1
                    value, problem = _json_record(line)
                    if problem:
                        batch.refused.append(
                            Refused(record, line_no, None, problem, self.render(line))
                        )
                        continue
                    batch.records.append(record)
                    batch.lines.append(line_no)
                    batch.raws.append(value)
                batch.columns = [[row.get(name) for row in batch.raws] for name in columns]
                yield batch

    def render(self, raw: Any) -> str:
        if isinstance(raw, bytes):
            return raw.decode("utf-8", "replace").rstrip("\r\n")
        return json.dumps(raw, default=str, ensure_ascii=False)


def _json_record(line: bytes) -> tuple[dict[str, Any], str | None]:
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

    def render(self, raw: Any) -> str:
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

    def fetch(self, model: Any, uri: str, out: IO[bytes]) -> None:
        produce: Callable[[], Iterable[Any]] = getattr(model, self.method)
        for item in produce():
            for row in item if isinstance(item, list) else [item]:
                out.write(json.dumps(row, default=str, ensure_ascii=False).encode("utf-8") + b"\n")

    def __repr__(self) -> str:
        return f"GeneratorSource({self.method!r})"
