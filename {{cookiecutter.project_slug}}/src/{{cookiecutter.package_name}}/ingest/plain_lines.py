"""Plain CSV lines handed to a bulk loader as they are, when one pattern proves every row good.

COPY and LOAD DATA read tab-separated text lines (``text_rows``). In a block of plain CSV
lines (unquoted, the model's columns in field order) whose every field matches its field's
``plain_pattern``, each value is one the field takes unchanged and the servers read back as
the same, so the transform would refuse no row and ``text_lines`` would write each line back
with its delimiters made tabs and the object id added (LOAD DATA sets the id itself: none). One regular expression over the block
proves it and two replacements write it, instead of splitting, converting and formatting a
value at a time. Any other block (a bad row, a blank, a quote) goes the usual way, rejects
and all; so does every block of a model whose rows a hook or a computed field sees.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .batches import Batch
from .field_base import Field

__all__ = ["PlainLines"]

# Delimiters no field pattern matches and no value of a plain block holds.
_DELIMITERS = frozenset({",", ";", "|", "\t"})


class PlainLines:
    """The text a bulk loader reads for a plain batch, or None to transform it as usual."""

    def __init__(self, patterns: Sequence[str], object_id: str | None) -> None:
        self.patterns = list(patterns)
        self.object_id = object_id
        self._compiled: dict[str, re.Pattern[str]] = {}

    @classmethod
    def for_load(
        cls,
        takes_text: bool,
        fields: Sequence[Field],
        hooks: Sequence[object],
        object_id: str | None,
    ) -> PlainLines | None:
        """For a loader that takes text lines (``takes_text``) and fields that each have a
        pattern (a computed field has none), when no hook sees the rows; else None."""
        if not takes_text or hooks:
            return None
        patterns = [f.plain_pattern() for f in fields]
        if not patterns or any(p is None for p in patterns):
            return None
        return cls([p for p in patterns if p is not None], object_id)

    def text(self, batch: Batch) -> str | None:
        """The batch's rows as the loader's text lines, when its lines are plain and good."""
        delimiter = batch.plain
        if delimiter is None or delimiter not in _DELIMITERS or not batch.raws or batch.refused:
            return None
        text = "\n".join(batch.raws) + "\n"
        if self._pattern(delimiter).fullmatch(text) is None:
            return None
        if delimiter != "\t":
            text = text.replace(delimiter, "\t")
        if self.object_id is None:
            return text
        return text.replace("\n", f"\t{self.object_id}\n")

    def _pattern(self, delimiter: str) -> re.Pattern[str]:
        if delimiter not in self._compiled:
            line = re.escape(delimiter).join(f"(?:{p})" for p in self.patterns)
            self._compiled[delimiter] = re.compile(f"(?:{line}\n)*+")
        return self._compiled[delimiter]
