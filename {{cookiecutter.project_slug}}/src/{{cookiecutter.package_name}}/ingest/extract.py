"""The extract stage: each input saved as received under ``data/raw/<model>/YYYY/MM/DD/``.

Content is hashed while it streams, the copy is written to a temporary file in the same
folder and renamed into place, so a crash never leaves a partial raw object. A file input is
hashed first and only copied when the ledger has no raw copy of that content yet.

Copies are not fsynced (on a busy disk that can cost more than the load itself): instead a raw
copy is trusted again only if its hash still matches (``intact``), so one that a power cut
damaged is made again from the input.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..system import utcnow
from .batches import ObjectProblem
from .sources import GeneratorSource, Source

if TYPE_CHECKING:
    from .model import IngestModel

__all__ = ["Staged", "hash_file", "intact", "place_raw", "stage_input"]

_BLOCK = 1 << 20


@dataclass
class Staged:
    """An input whose content is known: its hash, size, and a temporary copy if one exists."""

    uri: str
    content_hash: str
    size: int
    temp: Path | None = None
    raw: str | None = None  # an existing raw copy (re-processing)
    stamp: tuple[int, int] | None = None  # (size, mtime) of a file input when it was hashed

    def discard(self) -> None:
        """Remove the temporary copy if it was not moved into place."""
        if self.temp is not None and self.temp.exists():
            self.temp.unlink()


class _Hashing:
    """A binary writer that hashes and counts what goes through it."""

    def __init__(self, out: IO[bytes]):
        self.out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, block: bytes) -> int:
        self.digest.update(block)
        self.size += len(block)
        return self.out.write(block)


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 and size of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _stamp(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


def intact(path: str | None, content_hash: str) -> bool:
    """A raw copy that exists and still holds the content it was saved with."""
    if not path or not os.path.isfile(path):
        return False
    return hash_file(path)[0] == content_hash


def day_folder(data_dir: Path, model: str) -> Path:
    """``data/raw/<model>/YYYY/MM/DD`` for today (UTC)."""
    today = utcnow()
    return data_dir / "raw" / model / f"{today:%Y}" / f"{today:%m}" / f"{today:%d}"


def stage_input(source: Source, instance: IngestModel, uri: str, folder: Path) -> Staged:
    """Know an input's content: hash a file in place, or capture a generator to a temp file."""
    if not isinstance(source, GeneratorSource):
        stamp = _stamp(uri)
        content_hash, size = hash_file(uri)
        return Staged(uri, content_hash, size, stamp=stamp)
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".extract-", suffix=source.suffix)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            writer = _Hashing(out)
            source.fetch(instance, uri, writer)  # type: ignore[arg-type]
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Staged(uri, writer.digest.hexdigest(), writer.size, temp=temp)


def place_raw(source: Source, staged: Staged, folder: Path) -> str:
    """Move (or copy) the input into the raw folder under a name that carries its hash."""
    folder.mkdir(parents=True, exist_ok=True)
    base = Path(staged.uri).name if staged.temp is None else staged.uri.split(":", 1)[-1]
    if not base.endswith(source.suffix):
        base += source.suffix
    final = folder / f"{staged.content_hash[:16]}-{base}"
    if staged.temp is None:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".extract-", suffix=source.suffix)
        os.close(fd)
        staged.temp = Path(name)
        shutil.copyfile(staged.uri, staged.temp)  # a kernel-side copy where the OS has one
        if _stamp(staged.uri) != staged.stamp:
            raise ObjectProblem("the file changed while it was being read; ingest it again")
    os.replace(staged.temp, final)
    staged.temp = None
    return str(final)
