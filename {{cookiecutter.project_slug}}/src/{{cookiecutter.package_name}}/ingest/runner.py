"""Ingest a model: every input extracted, transformed and loaded exactly once per model version.

For each input: hash it; skip it if this model version already loaded that content (unless
``force``); save the raw copy; claim the object in the ledger; then transform and load it in
one transaction that also writes its rejects and marks it loaded. A failed object is rolled
back and recorded, the others go on, and the ingest raises :class:`IngestError` at the end.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, Table, delete, update

from ..core.interrupts import signals_call
from ..core.schema_check import require_head_fast
from ..db.engine import engine_from_settings
from ..errors import IngestError
from ..faults import crash_point
from ..settings import Settings, load_settings
from ..status import ObjectStatus
from ..system import first_line
from . import ledger
from .batches import ObjectProblem
from .extract import Staged, day_folder, intact, place_raw, stage_input
from .fields import Method, required_sources
from .hooks import hook_methods
from .ledger import ObjectInfo
from .load import OBJECT_ID_COLUMN, Loader, bulk_engine, ensure_target, target_table
from .plain_lines import PlainLines
from .tables import OBJECTS
from .transform import Transformed, transform_batch
from .versioning import stage_hashes

if TYPE_CHECKING:
    from .model import IngestModel

__all__ = ["IngestReport", "ObjectResult", "ingest"]

log = logging.getLogger("pipeline.ingest")
# What an input can come to, in the order the summary counts them.
_OUTCOMES = (ObjectStatus.LOADED, ObjectStatus.SKIPPED, ObjectStatus.FAILED)


@dataclass(frozen=True)
class ObjectResult:
    """What happened to one input: loaded, skipped or failed (an ObjectStatus), and why."""

    uri: str
    status: ObjectStatus
    object_id: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""


@dataclass
class IngestReport:
    """The outcome of one ingest; ``rows_affected`` (rows loaded) goes to the run ledger."""

    model: str
    version: int
    table: str
    objects: list[ObjectResult] = field(default_factory=list)

    def total(self, what: str) -> int:
        return sum(getattr(result, what) for result in self.objects)

    @property
    def rows_affected(self) -> int:
        return self.total("rows_loaded")

    def count(self, status: ObjectStatus) -> int:
        """How many inputs ended in ``status``."""
        return sum(result.status == status for result in self.objects)

    def summary(self) -> str:
        """One line: what was loaded, skipped and failed."""
        name = f"{self.model} v{self.version}"
        if not self.objects:
            return f"{name}: no inputs found"
        loaded, skipped, failed = map(self.count, _OUTCOMES)
        if loaded == 0 and failed == 0:
            return f"{name}: nothing new to load ({skipped} already loaded)"
        return (
            f"{name} -> {self.table}: {loaded} loaded, {skipped} skipped, {failed} failed; "
            f"rows read {self.total('rows_read')}, loaded {self.rows_affected}, "
            f"rejected {self.total('rows_rejected')}"
        )


@dataclass
class _Context:
    """What every object of one ingest shares."""

    model: type[IngestModel]
    instance: IngestModel
    settings: Settings
    engine: Engine
    load_engine: Engine
    version: int
    table: Table
    force: bool
    run_id: str | None
    logger: logging.Logger

    @property
    def raw_folder(self) -> Path:
        return day_folder(
            self.settings.path(self.settings.project.data_dir), self.model.__model_name__
        )


def ingest(
    model: type[IngestModel],
    paths: Sequence[str] = (),
    *,
    settings: Settings | None = None,
    engine: Engine | None = None,
    force: bool = False,
    reprocess: bool = False,
    run_id: str | None = None,
    logger: logging.Logger | None = None,
) -> IngestReport:
    """Ingest ``paths`` (default: the model's source); raises IngestError if any object failed."""
    settings = settings or load_settings()
    own_engine = engine is None
    engine = engine or engine_from_settings(settings)
    load_engine = bulk_engine(engine)
    try:
        require_head_fast(settings, engine)  # Alembic itself only when the history is unusual
        ctx = _context(
            model, settings, engine, load_engine, force=force, run_id=run_id, logger=logger or log
        )
        report = IngestReport(model.__model_name__, ctx.version, model.__table__)
        ledger.mark_dead_claims(engine, model.__model_name__)
        for uri, make in _inputs(ctx, paths, reprocess, report):
            report.objects.append(_one(ctx, uri, make))
    finally:
        if load_engine is not engine:
            load_engine.dispose()
        if own_engine:
            engine.dispose()
    ctx.logger.info(report.summary())
    failures = {r.uri: r.message for r in report.objects if r.status == ObjectStatus.FAILED}
    if failures:
        raise IngestError(model.__model_name__, failures, report)
    return report


def _context(
    model: type[IngestModel],
    settings: Settings,
    engine: Engine,
    load_engine: Engine,
    *,
    force: bool,
    run_id: str | None,
    logger: logging.Logger,
) -> _Context:
    """What every object of this ingest shares: the model's version, its target, an instance."""
    hashes = stage_hashes(model)
    declared = "\n".join(f.declaration() for f in model.__fields__)
    version = ledger.register_version(
        engine, model.__model_name__, model.__table__, hashes, declared
    )
    table = target_table(model.__table__, model.__fields__)
    ensure_target(engine, table)
    instance = model(settings=settings, logger=logger)
    return _Context(
        model, instance, settings, engine, load_engine, version, table, force, run_id, logger
    )


def _inputs(
    ctx: _Context, paths: Sequence[str], reprocess: bool, report: IngestReport
) -> list[tuple[str, Callable[[], Staged]]]:
    """Each input to ingest, with how to know its content; a source that cannot name its
    inputs fails the whole ingest (with the empty ``report``)."""
    source, folder = ctx.model.__source__, ctx.raw_folder
    try:
        uris = source.locate(ctx.settings.root, paths)
    except ObjectProblem as exc:
        raise IngestError(ctx.model.__model_name__, {"<inputs>": str(exc)}, report) from None
    # Objects a dead or failed-mid-way run extracted but never loaded resume from their
    # raw copy first (their source may be gone, or a generator may now yield other data).
    inputs: list[tuple[str, Callable[[], Staged]]] = [
        (o.source_uri, partial(_restaged, o)) for o in _unfinished(ctx, set(uris))
    ]
    inputs += [(uri, partial(stage_input, source, ctx.instance, uri, folder)) for uri in uris]
    if reprocess:
        inputs += [(info.source_uri, partial(_restaged, info)) for info in _earlier(ctx)]
    return inputs


def _unfinished(ctx: _Context, seen: set[str]) -> list[ObjectInfo]:
    with ctx.engine.connect() as conn:
        found = ledger.unfinished_objects(conn, ctx.model.__model_name__, ctx.version)
    return [o for o in found if o.source_uri not in seen]


def _earlier(ctx: _Context) -> list[ObjectInfo]:
    with ctx.engine.connect() as conn:
        return ledger.earlier_objects(conn, ctx.model.__model_name__, ctx.version)


def _restaged(info: ObjectInfo) -> Staged:
    return Staged(info.source_uri, info.content_hash, info.bytes, raw=info.raw_path)


def _one(ctx: _Context, uri: str, make: Callable[[], Staged]) -> ObjectResult:
    """Extract one input and, unless it is already loaded, transform and load it."""
    try:
        for hook in hook_methods(ctx.instance, "pre_extract"):
            hook(uri)  # raising refuses the input
        info = _record(ctx, make())
        if isinstance(info, ObjectResult):
            return info
        for hook in hook_methods(ctx.instance, "post_extract"):
            hook(info)
        crash_point("ingest.extract.committed")
    except Exception as exc:  # a bad file or a hook's error: this input fails, others go on
        ctx.logger.error("%s: %s", uri, _reason(exc))
        return ObjectResult(uri, ObjectStatus.FAILED, message=_reason(exc))
    return _load(ctx, info)


def _record(ctx: _Context, staged: Staged) -> ObjectInfo | ObjectResult:
    """The ledger row for this content and version, with its raw copy in place."""
    name = ctx.model.__model_name__
    try:
        with ctx.engine.begin() as conn:
            info = ledger.find_object(conn, name, ctx.version, staged.content_hash)
            skipped = _skipped(ctx, staged, info)
            if skipped is not None:
                return skipped
            raw = _raw_copy(ctx, conn, staged)
            if info is None:
                values = dict(model=name, model_version=ctx.version, source_uri=staged.uri)
                values.update(content_hash=staged.content_hash, bytes=staged.size, raw_path=raw)
                object_id = ledger.new_object(conn, target_table=ctx.model.__table__, **values)
                return ledger.find_object(conn, name, ctx.version, staged.content_hash) or _gone(
                    object_id
                )
            if info.raw_path != raw:
                conn.execute(update(OBJECTS).where(OBJECTS.c.id == info.id).values(raw_path=raw))
            return replace(info, raw_path=raw)
    finally:
        staged.discard()


def _skipped(ctx: _Context, staged: Staged, info: ObjectInfo | None) -> ObjectResult | None:
    """The result of an input this ingest leaves alone: already loaded, or being loaded."""
    if info is not None and info.status == ObjectStatus.LOADED and not ctx.force:
        when = f"{info.loaded_at:%Y-%m-%d %H:%M}" if info.loaded_at else "earlier"
        message = f"already loaded {when} by v{ctx.version}"
        return ObjectResult(staged.uri, ObjectStatus.SKIPPED, info.id, message=message)
    if info is not None and info.status == ObjectStatus.LOADING:
        message = f"being loaded by pid {info.pid} on {info.host}"
        return ObjectResult(staged.uri, ObjectStatus.SKIPPED, info.id, message=message)
    return None


def _raw_copy(ctx: _Context, conn: Connection, staged: Staged) -> str:
    """The path of an intact raw copy of the input: one saved earlier, or one made now."""
    raw = staged.raw or ledger.known_raw_path(conn, ctx.model.__model_name__, staged.content_hash)
    if raw is not None and intact(raw, staged.content_hash):
        return raw
    if staged.raw is not None:
        raise ObjectProblem(
            f"its raw copy {raw} is missing or damaged (hash differs) and the "
            "input is not at hand; ingest the input again"
        )
    return place_raw(ctx.model.__source__, staged, ctx.raw_folder)


def _gone(object_id: str) -> ObjectInfo:
    raise ObjectProblem(f"object {object_id} vanished from the ledger while being recorded")


def _load(ctx: _Context, info: ObjectInfo) -> ObjectResult:
    """Claim the object, then transform and load it in one transaction."""
    with ctx.engine.connect() as conn:
        had_rows = ledger.loaded_ids(conn, info.model, info.content_hash)
    token = ledger.claim(ctx.engine, info, ctx.run_id)
    if token is None:
        return ObjectResult(
            info.source_uri, ObjectStatus.SKIPPED, info.id, message="changed by another process"
        )
    try:
        with ctx.load_engine.begin() as conn:
            counts = _transform_and_load(ctx, conn, info, had_rows)
            if not ledger.finish(conn, info, token, counts):
                raise ObjectProblem(
                    "another process took this object over; its load was rolled back"
                )
    except BaseException as exc:
        reason = _reason(exc)
        if not isinstance(exc, Exception):
            _record_interrupt(ctx, info, token, reason)
            raise  # an interrupt: recorded, then passed on
        ledger.end_attempt(ctx.engine, info, token, reason)
        for hook in hook_methods(ctx.instance, "on_failure"):
            hook(info, exc)
        ctx.logger.error("%s: %s", info.source_uri, reason)
        return ObjectResult(info.source_uri, ObjectStatus.FAILED, info.id, message=reason)
    done = replace(info, status=ObjectStatus.LOADED, **counts)
    for hook in hook_methods(ctx.instance, "on_load_commit"):
        hook(done)
    return ObjectResult(info.source_uri, ObjectStatus.LOADED, info.id, **counts)


def _record_interrupt(ctx: _Context, info: ObjectInfo, token: str, reason: str) -> None:
    """Record an interrupted attempt (failed, or loaded still for a reload), a second Ctrl-C
    or SIGTERM held off meanwhile. If the database cannot take the write (another writer
    holds it), the object stays ``loading``: the next ingest finds this process gone and
    records it then."""
    with signals_call(lambda: None):
        try:
            ledger.end_attempt(ctx.engine, info, token, reason)
        except Exception as exc:  # the interrupt, not this, is what the user must see
            ctx.logger.warning("%s: interrupted (%s)", info.source_uri, first_line(exc))


def _transform_and_load(
    ctx: _Context, conn: Connection, info: ObjectInfo, had_rows: list[str]
) -> ledger.Counts:
    """Stream the raw object through the fields into the target; returns the row counts."""
    if had_rows:  # --force, a new version or an interrupted reload: earlier rows go
        conn.execute(delete(ctx.table).where(ctx.table.c[OBJECT_ID_COLUMN].in_(had_rows)))
    ledger.clear_rejects(conn, info.id)
    model, source = ctx.model, ctx.model.__source__
    columns = [f.source or f.name for f in model.__fields__ if not isinstance(f, Method)]
    hooks = hook_methods(ctx.instance, "post_transform")
    chunk_hooks = hook_methods(ctx.instance, "on_load_chunk")
    read = loaded = rejected = 0
    path, required = Path(info.raw_path or ""), required_sources(model.__fields__)
    with _gc_paused(), Loader(conn, ctx.table, model.__fields__, info.id) as loader:
        plain = PlainLines.for_load(
            loader.takes_text, model.__fields__, hooks, loader.text_object_id
        )
        for batch in source.read(path, columns, required, model.__chunk_size__):
            lines = plain.text(batch) if plain is not None else None
            if lines is not None:  # every row good, already as the loader's text
                out = Transformed([], [])
                loaded += loader.insert_text(lines, len(batch.records))
            else:
                out = transform_batch(ctx.instance, model.__fields__, batch, source.render, hooks)
                loaded += loader.insert(out.columns)
            read += batch.read
            rejected += len(out.refused)
            if out.refused or chunk_hooks:
                loader.wait()  # the connection is free, and the chunk is in, from here on
            if out.refused:
                ledger.add_rejects(conn, info.id, out.refused)
            for hook in chunk_hooks:
                hook(info, loaded)
            crash_point("ingest.load.after_chunk")
    if read != loaded + rejected:
        raise ObjectProblem(
            f"counts do not add up: read {read}, loaded {loaded}, rejected {rejected}"
        )
    return {"rows_read": read, "rows_loaded": loaded, "rows_rejected": rejected}


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Every chunk allocates many small containers that the cyclic collector would scan again
    # and again for nothing: reference counting frees them. Pausing it halves parse time.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (ObjectProblem, IngestError)):
        return str(exc)
    if isinstance(exc, OSError):
        return f"cannot read it: {exc.strerror or exc}"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return f"{type(exc).__name__}: {exc}"
