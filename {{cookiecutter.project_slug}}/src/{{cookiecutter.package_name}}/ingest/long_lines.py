"""CSV text with each line holding a field over the csv module's size limit cut out as it is read.

The csv module refuses the whole file at such a field, and reading its line whole can take
hundreds of megabytes. ``CappedText`` reads a long line in bounded pieces; one with a field
over the limit comes out as a short placeholder holding ``OVERSIZED``, with the same quoting
effect (a quoted field left open stays open), so only its row is refused and the lines after
it read as before. Short lines pass through untouched: the cost is a scan for long lines.
"""

from __future__ import annotations

import csv
from typing import IO

__all__ = ["CappedText", "OVERSIZED"]

# Stands in for a line cut out; a private-use character, which a real field does not hold.
OVERSIZED = "\ue000over the field size limit\ue000"
_PIECE = 1 << 20


class CappedText:
    """A text file as a csv reader sees it (``read``, ``readline``, lines), each line holding
    a field over ``csv.field_size_limit()`` replaced by a placeholder (``replaced`` counts them).

    A line is kept in memory up to ``width + 1`` times the limit (a longer one must hold an
    over-long field); beyond that it is read past in pieces."""

    def __init__(self, handle: IO[str], delimiter: str, quote: str, width: int):
        self.handle, self.delimiter, self.quote, self.width = handle, delimiter, quote, width
        self.limit = csv.field_size_limit()
        self.window = max(1, self.limit // 2)
        self.inside = False  # the text handed out so far ends inside a quoted field
        self.replaced = 0

    @property
    def cap(self) -> int:
        return self.limit * (self.width + 1)

    def read(self, size: int) -> str:
        """About ``size`` characters, ended at the end of a line."""
        text = self.handle.read(size)
        if not text:
            return text
        cut = text.rfind("\n") + 1
        body, last = text[:cut], text[cut:]
        if len(body) > self.limit and self._may_hold_long(body):
            body = self._cut(body)
        self._passed(body)
        return body + (self._line(last) if last else "")

    def readline(self) -> str:
        return self._line("")

    def __iter__(self) -> CappedText:
        return self

    def __next__(self) -> str:
        line = self._line("")
        if not line:
            raise StopIteration
        return line

    def _may_hold_long(self, text: str) -> bool:
        """Whether a line of ``text`` may be over the limit: such a line spans a whole window
        of half the limit, which then holds no line break."""
        for start in range(0, len(text) - self.window, self.window):
            if text.find("\n", start, start + self.window) < 0:
                return True
        return False

    def _cut(self, text: str) -> str:
        """``text`` with each line holding an over-long field replaced."""
        out, inside = [], self.inside
        for line in text.split("\n"):
            if len(line) > self.limit and self._too_long(line, inside):
                line = self._placeholder(inside, self._count(line) % 2 == 1).rstrip("\n")
            inside ^= self._count(line) % 2 == 1
            out.append(line)
        return "\n".join(out)

    def _line(self, start: str) -> str:
        """The rest of the line ``start`` begins (the next line if empty), read in bounded
        pieces; its placeholder if it holds an over-long field."""
        more = self.handle.readline(_PIECE)
        line = start + more
        while len(more) == _PIECE and not more.endswith(("\n", "\r")):
            if len(line) > self.cap:
                line = self._skip_rest(line)
                self._passed(line)
                return line
            more = self.handle.readline(_PIECE)
            line += more
        if len(line) > self.limit and self._too_long(line, self.inside):
            line = self._placeholder(self.inside, self._count(line) % 2 == 1)
        self._passed(line)
        return line

    def _too_long(self, line: str, inside: bool) -> bool:
        """Whether the csv module would find a field over the limit in this line."""
        text = (self.quote + line) if inside and self.quote else line
        reader = csv.reader([text], delimiter=self.delimiter, quotechar=self.quote or None)
        try:
            next(reader, None)
        except csv.Error as exc:
            return "field larger than field limit" in str(exc)
        return False

    def _skip_rest(self, line: str) -> str:
        """Read past the rest of the line, keeping only its quote count; its placeholder."""
        quotes = self._count(line)
        while line and not line.endswith(("\n", "\r")):
            line = self.handle.readline(_PIECE)
            quotes += self._count(line)
        return self._placeholder(self.inside, quotes % 2 == 1)

    def _placeholder(self, inside: bool, toggles: bool) -> str:
        """A short line with the same quoting effect as the line it replaces."""
        self.replaced += 1
        if not toggles:  # outside a quoted field: a row too wide to pass for a good one
            return OVERSIZED + self.delimiter * (self.width + 1) + "\n"
        if inside:  # the line closed the quoted field it began in, and ended the row
            return OVERSIZED + self.quote + "\n"
        return self.quote + OVERSIZED + "\n"  # the line opened a quoted field left open

    def _count(self, text: str) -> int:
        return text.count(self.quote) if self.quote else 0

    def _passed(self, text: str) -> None:
        if self._count(text) % 2 == 1:
            self.inside = not self.inside
