"""Declarative ingest models: a target table, typed fields, a source, hooks; and their version.

    class Predictions(IngestModel, depends_on=[fetch_day]):
        __table__ = "raw_predictions"
        __source__ = CsvSource("seeds/predictions.csv")

        id = fields.Integer(required=True)
        model = fields.UppercaseString(length=40)
        day = fields.Date(format="%Y-%m-%d")
        label = fields.Method("label_for", type=fields.String(length=20))

        def label_for(self, row): ...

Each model is also a task in the DAG (``Predictions.__task__``), named after the model; class
keywords (``depends_on``, ``retry``, ``tags``...) are its task options. The model's version is
the hash of each stage's code and field declarations (comments and whitespace ignored).
"""

from __future__ import annotations

import inspect
import logging
import re
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Engine

from ..core.context import RunContext
from ..core.task import Task
from ..errors import DefinitionError
from ..settings import Settings
from .fields import Field, Method
from .hooks import HOOK_ATTRIBUTE
from .load import OBJECT_ID_COLUMN
from .sources import GeneratorSource, Source

if TYPE_CHECKING:
    from .runner import IngestReport

__all__ = ["IngestModel", "registered"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_TASK_OPTIONS = frozenset(
    {
        "depends_on",
        "retry",
        "retry_delay",
        "ttl_minutes",
        "runs_on",
        "tags",
        "timeout",
        "checks",
        "stage",
    }
)
_registry: dict[str, type[IngestModel]] = {}


def registered() -> dict[str, type[IngestModel]]:
    """Every ingest model defined so far in this process, by name."""
    return dict(_registry)


class IngestModel:
    """Base of ingest models; subclass it with ``__table__``, ``__source__`` and fields.

    Everything the framework sets on a model is a dunder (``__model_name__``,
    ``__fields__``, ``__hooks__``, ``__task__``), so any plain name is free for a field.
    """

    __table__: ClassVar[str]
    __source__: ClassVar[Source]
    __model_name__: ClassVar[str]
    __chunk_size__: ClassVar[int] = 20_000
    __fields__: ClassVar[tuple[Field, ...]] = ()
    __hooks__: ClassVar[dict[str, tuple[str, ...]]] = {}
    __task__: ClassVar[Task]

    def __init_subclass__(cls, name: str | None = None, **task_options: Any) -> None:
        super().__init_subclass__()
        cls.__model_name__ = name or cls.__dict__.get("__model_name__") or _snake(cls.__name__)
        cls.__fields__ = tuple(_collect_fields(cls))
        cls.__hooks__ = _collect_hooks(cls)
        problems = _problems(cls, task_options)
        if problems:
            where = f"{inspect.getsourcefile(cls) or cls.__module__}"
            raise DefinitionError([f"ingest model {cls.__name__}: {p}" for p in problems], where)
        cls.__task__ = _make_task(cls, task_options)
        _registry[cls.__model_name__] = cls

    def __init__(self, settings: Settings | None = None, logger: logging.Logger | None = None):
        self.settings = settings
        self.logger = logger


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _collect_fields(cls: type) -> list[Field]:
    found: dict[str, Field] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Field):
                found.pop(attr, None)
                found[attr] = value
    return list(found.values())


def _collect_hooks(cls: type) -> dict[str, tuple[str, ...]]:
    hooks: dict[str, list[str]] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            kind = getattr(value, HOOK_ATTRIBUTE, None)
            if kind and attr not in hooks.get(kind, []):
                hooks.setdefault(kind, []).append(attr)
    return {kind: tuple(names) for kind, names in hooks.items()}


def _problems(cls: type[IngestModel], task_options: dict[str, object]) -> list[str]:
    """Everything wrong with a model's declaration, each said as how to fix it."""
    problems = _source_problems(cls) + _field_problems(cls)
    unknown = sorted(set(task_options) - _TASK_OPTIONS)
    if unknown:
        problems.append(
            f"unknown class keyword {', '.join(unknown)}; "
            f"task options are: {', '.join(sorted(_TASK_OPTIONS))}"
        )
    if not isinstance(cls.__chunk_size__, int) or cls.__chunk_size__ < 1:
        problems.append(f"__chunk_size__ must be a whole number >= 1, got {cls.__chunk_size__!r}")
    return problems


def _source_problems(cls: type[IngestModel]) -> list[str]:
    """Problems with where the model reads from and writes to."""
    problems = []
    table = cls.__dict__.get("__table__", getattr(cls, "__table__", None))
    if not isinstance(table, str) or not _IDENTIFIER.match(table):
        problems.append(f"__table__ must name the target table (letters, digits, _), got {table!r}")
    if not isinstance(getattr(cls, "__source__", None), Source):
        problems.append(
            "__source__ must be a source: CsvSource('data/in/*.csv'), JsonLinesSource(...), "
            "ParquetSource(...) or GeneratorSource('method_name')"
        )
    elif isinstance(cls.__source__, GeneratorSource) and not callable(
        getattr(cls, cls.__source__.method, None)
    ):
        problems.append(
            f"GeneratorSource names {cls.__source__.method!r}, which is not a method of the model"
        )
    return problems


def _field_problems(cls: type[IngestModel]) -> list[str]:
    """Problems with the model's fields: none, a bad name, a missing computing method."""
    if not cls.__fields__:
        return ["declare at least one field, e.g. id = fields.Integer(required=True)"]
    problems = []
    for fld in cls.__fields__:
        if fld.name == OBJECT_ID_COLUMN or not _IDENTIFIER.match(fld.name):
            problems.append(f"field name {fld.name!r} is reserved or not a valid column name")
        if isinstance(fld, Method) and not callable(getattr(cls, fld.method, None)):
            problems.append(
                f"field {fld.name!r} computes from {fld.method!r}, "
                "which is not a method of the model"
            )
    return problems


def _make_task(cls: type[IngestModel], options: dict[str, Any]) -> Task:
    """The model as a task: running it ingests the model's source."""

    def ingest_task(engine: Engine, run: RunContext) -> IngestReport:
        from .runner import ingest

        return ingest(
            cls, settings=run.settings, engine=engine, run_id=run.run_id, logger=run.logger
        )

    ingest_task.__name__ = ingest_task.__qualname__ = cls.__model_name__
    ingest_task.__module__ = cls.__module__
    ingest_task.__doc__ = cls.__doc__ or f"Ingest {cls.__model_name__} into {cls.__table__}."
    # The task wraps the model: the engine's code fingerprint follows __wrapped__ to the class
    # source, so editing a field or hook makes the task due. __signature__ keeps the injected
    # parameters those of this function.
    ingest_task.__signature__ = inspect.signature(ingest_task)  # type: ignore[attr-defined]
    ingest_task.__wrapped__ = cls  # type: ignore[attr-defined]
    task: Task = Task(name=cls.__model_name__, **options)(ingest_task)
    try:
        task.location = f"{inspect.getsourcefile(cls)}:{inspect.getsourcelines(cls)[1]}"
    except (OSError, TypeError):
        pass  # defined where its source cannot be read (a REPL); keep the default
    return task
