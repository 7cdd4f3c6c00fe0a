"""Reading a CSV file's text in blocks, fast where the text is plain, and checking its rows.

The csv module reads a row at a time; most files are plain lines (or lines whose every field
is quoted) that splitting a whole block at once reads several times faster. ``TextBlocks``
cuts the text into such blocks, handing anything else back to the csv module; the helpers
count lines and find the rows that cannot be read (wrong width, bytes not valid text).
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, overload

from .batches import Batch
from .long_lines import OVERSIZED

__all__ = [
    "Quoted",
    "TextBlocks",
    "decodes",
    "first_lines",
    "line_count",
    "pick_columns",
    "plain_batch",
    "row_problem",
    "split_batch",
    "valid_text",
]


class Text(Protocol):
    """A text file as ``TextBlocks`` reads it (an open file, or ``long_lines.CappedText``)."""

    def read(self, size: int, /) -> str: ...

    def readline(self) -> str: ...


class TextBlocks:
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

    def __init__(self, handle: Text, delimiter: str, quote: str, width: int, size: int):
        self.handle, self.delimiter, self.quote = handle, delimiter, quote
        self.width, self.size = width, size
        self.limit = csv.field_size_limit()

    def __iter__(self) -> Iterator[list[str] | Quoted | str]:
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
                yield Quoted(fields[start : start + step], self.width, self.delimiter)
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
        if self._may_be_long(text) and max(map(len, lines)) > self.limit:
            return None
        return lines

    def _may_be_long(self, text: str) -> bool:
        """Whether a line of ``text`` may be over the limit: such a line holds an aligned
        window of half the limit with no line break, which a few finds rule out."""
        window = max(1, (self.limit + 1) // 2)
        return len(text) > self.limit and any(
            text.find("\n", start, start + window) < 0
            for start in range(0, len(text) - window + 1, window)
        )

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
class Quoted(Sequence[str]):
    """Rows of a block whose every field was quoted: their fields, side by side in one list.

    ``block[i]`` is row i as the csv module's row would be rendered (its fields joined)."""

    fields: list[str]
    width: int
    delimiter: str

    def __len__(self) -> int:
        return len(self.fields) // self.width

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not 0 <= index < len(self):
            raise IndexError(f"row {index} of {len(self)}")
        return self.delimiter.join(self.fields[index * self.width : (index + 1) * self.width])


def _breaks(text: str) -> int:
    """How many line ends ``text`` holds as the file is split into lines: CRLF, CR or LF."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def line_count(text: str) -> int:
    """How many lines the file's line iteration makes of ``text``."""
    return _breaks(text) + (not text.endswith(("\n", "\r")))


def first_lines(chunk: list[list[str]], before: int, delimiter: str) -> list[int]:
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


def decodes(path: Path, encoding: str) -> bool:
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


def valid_text(chunk: list[list[str]]) -> bool:
    """No undecodable byte anywhere in the chunk (checked on one joined string)."""
    joined = "\x1f".join(map("".join, chunk))
    if joined.isascii():
        return True
    if OVERSIZED in joined:
        return False
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def row_problem(row: list[str], width: int) -> str | None:
    """Why a row cannot be read (a field over the size limit, its number of fields, a byte
    not valid text), or None."""
    if any(OVERSIZED in value for value in row):
        return f"a field is over the csv size limit ({csv.field_size_limit()} characters)"
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


def split_batch(
    fields: list[str], raws: Sequence[Any], record: int, line: int, width: int
) -> Batch:
    """A batch of one-line rows whose fields are side by side in ``fields``: each column is
    a slice of it."""
    count = len(raws)
    return Batch(
        [fields[i::width] for i in range(width)],
        range(record + 1, record + count + 1),
        range(line + 1, line + count + 1),
        raws,
        texts=True,
    )


def pick_columns(batch: Batch, picks: list[int | None], width: int) -> Batch:
    """Fill ``batch.columns`` with the picked CSV columns, in the model's field order."""
    if batch.columns:
        by_index = batch.columns
    else:
        by_index = list(zip(*batch.raws)) if batch.raws else [()] * width
    count = len(batch.records)
    batch.columns = [by_index[i] if i is not None else (None,) * count for i in picks]
    return batch


def plain_batch(
    block: list[str], record: int, line: int, width: int, picks: list[int | None], delimiter: str
) -> Batch:
    """A batch of plain lines (``TextBlocks``), split into columns only when first asked for:
    a bulk loader that can send the lines as they are (``plain_lines``) never splits them."""
    count = len(block)

    def split() -> list[Sequence[Any]]:
        fields = delimiter.join(block).split(delimiter)
        return pick_columns(split_batch(fields, block, record, line, width), picks, width).columns

    batch = Batch(
        [], range(record + 1, record + count + 1), range(line + 1, line + count + 1), block
    )
    batch.texts, batch.split = True, split
    if picks == list(range(width)):  # the file's columns are the model's, in its order
        batch.plain = delimiter
    return batch
