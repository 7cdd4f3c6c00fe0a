"""Hooks: methods of an ingest model that run at fixed points of each object's journey.

    @pre_extract       (self, uri)              before a source is read; raise to refuse it
    @post_extract      (self, obj)              the raw copy is saved and recorded
    @post_transform    (self, rows)             each chunk of transformed rows (dicts), in place
    @on_load_chunk     (self, obj, loaded)      inside the load transaction, after each chunk
    @on_load_commit    (self, obj)              the object's rows are committed
    @on_failure        (self, obj, error)       the object failed (its rows were rolled back)

``obj`` is an :class:`~.ledger.ObjectInfo`. Hooks of a stage are part of that stage's hash,
so editing one gives the model a new version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .model import IngestModel

__all__ = [
    "HOOK_ATTRIBUTE",
    "HOOK_STAGES",
    "hook_methods",
    "on_failure",
    "on_load_chunk",
    "on_load_commit",
    "post_extract",
    "post_transform",
    "pre_extract",
]

HOOK_ATTRIBUTE = "__ingest_hook__"
# Which stage's hash each hook belongs to.
HOOK_STAGES = {
    "pre_extract": "extract",
    "post_extract": "extract",
    "post_transform": "transform",
    "on_load_chunk": "load",
    "on_load_commit": "load",
    "on_failure": "load",
}

F = TypeVar("F", bound=Callable[..., Any])


def _marker(kind: str) -> Callable[[F], F]:
    def mark(func: F) -> F:
        setattr(func, HOOK_ATTRIBUTE, kind)
        return func

    mark.__name__ = kind
    mark.__doc__ = f"Run the decorated method at {kind.replace('_', ' ')}."
    return mark


pre_extract = _marker("pre_extract")
post_extract = _marker("post_extract")
post_transform = _marker("post_transform")
on_load_chunk = _marker("on_load_chunk")
on_load_commit = _marker("on_load_commit")
on_failure = _marker("on_failure")


def hook_methods(instance: IngestModel, kind: str) -> list[Callable[..., object]]:
    """The bound hook methods of one kind, in definition order."""
    return [getattr(instance, name) for name in type(instance).__hooks__.get(kind, ())]
