"""What a run is asked to do (``RunRequest``) and what it was resolved into (``RunPlan``).

The CLI's ``run`` command builds one ``RunRequest``; ``run_pipeline`` gathers what the run needs,
takes the lock and hands one ``RunPlan`` to the run loop, so every later step reads typed
values instead of options passed along one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict, Unpack

if TYPE_CHECKING:
    from ..db.ledger import TaskHistory
    from ..settings import Settings
    from .dag import Dag

__all__ = ["RunOptions", "RunPlan", "RunRequest"]


class RunFlags(TypedDict, total=False):
    """The options of a run besides its selection, named as the CLI's ``run`` flags."""

    workers: int | None
    full_refresh: bool
    resume: bool
    fail_fast: bool
    dry_run: bool
    strict: bool


class RunOptions(RunFlags, total=False):
    """``run_pipeline``'s keyword options, named as the CLI's ``run`` flags."""

    select: Iterable[str] | None
    exclude: Iterable[str] | None


@dataclass(frozen=True)
class RunRequest:
    """The run asked for: which tasks, how many at once, which executor, and the flags."""

    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    workers: int | None = None  # None: executor.workers in settings.yml
    full_refresh: bool = False
    resume: bool = False
    fail_fast: bool = False
    dry_run: bool = False
    executor: str | None = None  # an executor kind; None: executor.kind in settings.yml
    strict: bool = False  # a task reading a table it does not depend on fails

    @classmethod
    def from_options(
        cls,
        executor: str | None = None,
        *,
        select: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **flags: Unpack[RunFlags],
    ) -> RunRequest:
        """A request from ``run_pipeline``'s keywords (``select=None`` means every task)."""
        return cls(tuple(select or ()), tuple(exclude or ()), executor=executor, **flags)

    def selection(self) -> dict[str, object]:
        """The options the ledger keeps with the run (its ``selection`` column)."""
        return {
            "select": list(self.select),
            "exclude": list(self.exclude),
            "full_refresh": self.full_refresh,
            "resume": self.resume,
            "fail_fast": self.fail_fast,
            "strict": self.strict,
        }


@dataclass(frozen=True)
class RunPlan:
    """One run, resolved: its tasks in order, their fingerprints and history, and the settings
    its attempts receive. Fixed once the run holds the lock."""

    run_id: str
    dag: Dag
    names: list[str]
    fingerprints: Mapping[str, str]
    history: Mapping[str, TaskHistory]
    settings: Settings
    database_url: str  # rendered with its password, as attempts on other processes need it
    workers: int
    now: datetime
    full_refresh: bool = False
    fail_fast: bool = False
    blocked: Mapping[str, str] = field(default_factory=dict)  # task -> the source check it failed
    strict: bool = False
    writers: Mapping[str, str] = field(default_factory=dict)  # table -> task, for lineage checks
