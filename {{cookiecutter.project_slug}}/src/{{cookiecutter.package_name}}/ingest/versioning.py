"""The version of an ingest model: a hash of each stage's declarations and code.

Comments, whitespace and docstrings do not count, so only a change that can alter what a stage
does gives the model a new version (and makes the ledger load its inputs again).
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING

from .fields import Method
from .hooks import HOOK_STAGES
from .sources import GeneratorSource

if TYPE_CHECKING:
    from .model import IngestModel

__all__ = ["stage_hashes"]


def stage_hashes(model: type[IngestModel]) -> dict[str, str]:
    """Hash of each stage's declarations and code, and the fingerprint of all three."""
    source = model.__source__
    extract = [source.declaration()]
    if isinstance(source, GeneratorSource):
        extract.append(_code(getattr(model, source.method)))
    transform = [f.declaration() for f in model.__fields__]
    transform += [
        _code(getattr(model, f.method)) for f in model.__fields__ if isinstance(f, Method)
    ]
    parts = {"extract": extract, "transform": transform, "load": [f"table={model.__table__}"]}
    for kind, names in sorted(model.__hooks__.items()):
        parts[HOOK_STAGES[kind]] += [f"@{kind}:" + _code(getattr(model, n)) for n in names]
    hashes = {stage: _sha("\n".join(texts)) for stage, texts in parts.items()}
    combined = "".join(hashes[stage] for stage in ("extract", "transform", "load"))
    hashes["fingerprint"] = _sha(model.__model_name__ + combined)
    return hashes


def _code(func: Callable[..., object]) -> str:
    """A function's code with comments, whitespace and docstrings removed."""
    func = inspect.unwrap(getattr(func, "__func__", func))
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        code = func.__code__
        return code.co_code.hex() + repr(code.co_consts)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
