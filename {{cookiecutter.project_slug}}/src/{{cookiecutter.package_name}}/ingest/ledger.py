"""Reads and writes of the ingest ledger: model versions, object claims and their outcomes.

An attempt owns an object through a claim token written in a short committed transaction;
its load transaction only commits if the token is still its own, so two processes can never
both load one object. A claim left by a process that died is seen and marked ``crashed``.
"""

from __future__ import annotations

import os
import secrets
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    column,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy import table as sa_table
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..status import ObjectStatus, StageStatus
from ..system import pid_alive, utcnow
from .batches import Refused
from .load import OBJECT_ID_COLUMN
from .tables import MODELS, OBJECTS, REJECTS

__all__ = [
    "Counts",
    "ObjectInfo",
    "add_rejects",
    "claim",
    "end_attempt",
    "find_object",
    "loaded_ids",
    "mark_dead_claims",
    "new_object",
    "register_version",
    "unfinished_objects",
]


class Counts(TypedDict):
    """An object's row counts, as its ledger row and its result name them."""

    rows_read: int
    rows_loaded: int
    rows_rejected: int


HOST = socket.gethostname()
# Random bytes of an object's id. Every row a load writes carries the id: 8 bytes (16 hex
# characters) keep each row 16 bytes smaller than a whole UUID would, and two of even a
# million objects share one with odds under 1 in 30 million (a clash fails the insert).
OBJECT_ID_BYTES = 8
# Objects no attempt is working on (a ``loading`` one belongs to a live attempt).
_SETTLED = (ObjectStatus.LOADED, ObjectStatus.FAILED, ObjectStatus.CRASHED)


@dataclass(frozen=True)
class ObjectInfo:
    """A data object as the ledger records it; what hooks receive."""

    id: str
    model: str
    model_version: int
    source_uri: str
    content_hash: str
    bytes: int
    status: str
    raw_path: str | None
    target_table: str
    rows_read: int | None = None
    rows_loaded: int | None = None
    rows_rejected: int | None = None
    claim: str | None = None
    host: str | None = None
    pid: int | None = None
    loaded_at: datetime | None = None
    error: str | None = None

    @classmethod
    def from_row(cls, row: Row[Any]) -> ObjectInfo:
        data = row._mapping
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def register_version(
    engine: Engine, name: str, table: str, hashes: dict[str, str], fields: str
) -> int:
    """The version number of this set of stage hashes; a new set gets the next number."""
    fingerprint = hashes["fingerprint"]
    for _ in range(3):  # another process may register the same model at the same time
        with engine.begin() as conn:
            found = conn.execute(
                select(MODELS.c.version).where(
                    MODELS.c.name == name, MODELS.c.fingerprint == fingerprint
                )
            ).scalar()
            if found is not None:
                return int(found)
            last = conn.execute(select(func.max(MODELS.c.version)).where(MODELS.c.name == name))
            version = int(last.scalar() or 0) + 1
            try:
                conn.execute(
                    insert(MODELS).values(
                        name=name,
                        version=version,
                        fingerprint=fingerprint,
                        target_table=table,
                        extract_hash=hashes["extract"],
                        transform_hash=hashes["transform"],
                        load_hash=hashes["load"],
                        fields=fields,
                        created_at=utcnow(),
                    )
                )
            except IntegrityError:
                continue
            return version
    raise RuntimeError(f"could not register a version of ingest model {name!r}")


def find_object(conn: Connection, model: str, version: int, content_hash: str) -> ObjectInfo | None:
    """The object this model version made of this content, if any."""
    row = conn.execute(
        select(OBJECTS).where(
            OBJECTS.c.model == model,
            OBJECTS.c.model_version == version,
            OBJECTS.c.content_hash == content_hash,
        )
    ).first()
    return ObjectInfo.from_row(row) if row is not None else None


def known_raw_path(conn: Connection, model: str, content_hash: str) -> str | None:
    """A raw copy of this content saved earlier by any version of the model, if still there."""
    paths = conn.execute(
        select(OBJECTS.c.raw_path).where(
            OBJECTS.c.model == model, OBJECTS.c.content_hash == content_hash
        )
    ).scalars()
    return next((path for path in paths if path and os.path.isfile(path)), None)


def new_object(conn: Connection, **values: object) -> str:
    """Record a freshly extracted object; returns its id."""
    now = utcnow()
    object_id = secrets.token_hex(OBJECT_ID_BYTES)
    conn.execute(
        insert(OBJECTS).values(
            id=object_id,
            status=ObjectStatus.EXTRACTED,
            extract_status=StageStatus.DONE,
            transform_status=StageStatus.PENDING,
            load_status=StageStatus.PENDING,
            created_at=now,
            extracted_at=now,
            updated_at=now,
            attempts=0,
            **values,
        )
    )
    return object_id


def claim(engine: Engine, seen: ObjectInfo, run_id: str | None) -> str | None:
    """Take the object for this process; None when someone changed it since it was read."""
    token = uuid.uuid4().hex
    now = utcnow()
    with engine.begin() as conn:
        taken = conn.execute(
            update(OBJECTS)
            .where(OBJECTS.c.id == seen.id, OBJECTS.c.status == seen.status)
            .where(_same_claim(seen.claim))
            .values(
                status=ObjectStatus.LOADING,
                transform_status=StageStatus.RUNNING,
                load_status=StageStatus.RUNNING,
                claim=token,
                host=HOST,
                pid=os.getpid(),
                run_id=run_id,
                attempts=OBJECTS.c.attempts + 1,
                transform_started_at=now,
                load_started_at=now,
                updated_at=now,
                error=None,
            )
        )
    return token if taken.rowcount == 1 else None


def _same_claim(token: str | None) -> ColumnElement[bool]:
    return OBJECTS.c.claim.is_(None) if token is None else OBJECTS.c.claim == token


def finish(conn: Connection, info: ObjectInfo, token: str, counts: Counts) -> bool:
    """Inside the load transaction: mark the object loaded if this attempt still owns it."""
    now = utcnow()
    done = conn.execute(
        update(OBJECTS)
        .where(OBJECTS.c.id == info.id, OBJECTS.c.claim == token)
        .values(
            status=ObjectStatus.LOADED,
            transform_status=StageStatus.DONE,
            load_status=StageStatus.DONE,
            loaded_at=now,
            updated_at=now,
            **counts,
        )
    )
    # Other versions' loads of the same content no longer own rows in the target.
    conn.execute(
        update(OBJECTS)
        .where(
            OBJECTS.c.model == info.model,
            OBJECTS.c.content_hash == info.content_hash,
            OBJECTS.c.id != info.id,
            _had_rows(),
            OBJECTS.c.status.in_(_SETTLED),
        )
        .values(status=ObjectStatus.SUPERSEDED, updated_at=now)
    )
    return done.rowcount == 1


def loaded_ids(conn: Connection, model: str, content_hash: str) -> list[str]:
    """Objects of this model with this content that may have rows in the target (any version).

    Whatever their status now: an object loaded once and then left ``loading``, ``failed`` or
    ``crashed`` by an interrupted ``--force`` reload still owns its first load's rows."""
    query = select(OBJECTS.c.id).where(
        OBJECTS.c.model == model,
        OBJECTS.c.content_hash == content_hash,
        _had_rows(),
    )
    return list(conn.execute(query).scalars())


def _had_rows() -> ColumnElement[bool]:
    return or_(OBJECTS.c.status == ObjectStatus.LOADED, OBJECTS.c.loaded_at.is_not(None))


def earlier_objects(conn: Connection, model: str, version: int) -> list[ObjectInfo]:
    """One object per content this model loaded under other versions (newest first)."""
    rows = conn.execute(
        select(OBJECTS)
        .where(OBJECTS.c.model == model, OBJECTS.c.model_version != version)
        .where(OBJECTS.c.status.in_([ObjectStatus.LOADED, ObjectStatus.SUPERSEDED]))
        .order_by(OBJECTS.c.created_at.desc())
    )
    seen: dict[str, ObjectInfo] = {}
    for row in rows:
        seen.setdefault(row.content_hash, ObjectInfo.from_row(row))
    return list(seen.values())


def unfinished_objects(conn: Connection, model: str, version: int) -> list[ObjectInfo]:
    """Objects of this version extracted but never loaded (left so, or crashed mid-load)."""
    rows = conn.execute(
        select(OBJECTS)
        .where(OBJECTS.c.model == model, OBJECTS.c.model_version == version)
        .where(OBJECTS.c.status.in_([ObjectStatus.EXTRACTED, ObjectStatus.CRASHED]))
        .order_by(OBJECTS.c.created_at)
    )
    found = [ObjectInfo.from_row(row) for row in rows]
    return [info for info in found if info.raw_path and os.path.isfile(info.raw_path)]


def recent_objects(
    engine: Engine, model: str | None = None, limit: int = 50
) -> list[dict[str, object]]:
    """The newest objects (of one model, or all) with their statuses and counts."""
    mark_dead_claims(engine, model)
    query = select(OBJECTS).order_by(OBJECTS.c.updated_at.desc()).limit(limit)
    if model is not None:
        query = query.where(OBJECTS.c.model == model)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def add_rejects(conn: Connection, object_id: str, refused: list[Refused]) -> None:
    """Record refused records of this object (inside the load transaction)."""
    conn.execute(
        insert(REJECTS),
        [
            {
                "object_id": object_id,
                "record": item.record,
                "line": item.line,
                "field": item.field,
                "reason": item.reason[:2000],
                "raw": None if item.raw is None else item.raw[:2000],
            }
            for item in refused
        ],
    )


def clear_rejects(conn: Connection, object_id: str) -> None:
    """Forget the rejects of an earlier attempt at this object."""
    conn.execute(delete(REJECTS).where(REJECTS.c.object_id == object_id))


def fail(
    engine: Engine,
    object_id: str,
    token: str,
    error: str,
    status: ObjectStatus = ObjectStatus.FAILED,
) -> None:
    """Record that this attempt failed (its load transaction was rolled back); ``loaded``
    when it was a reload, whose rollback kept the earlier load's rows."""
    stage = StageStatus.DONE if status == ObjectStatus.LOADED else status
    with engine.begin() as conn:
        conn.execute(
            update(OBJECTS)
            .where(OBJECTS.c.id == object_id, OBJECTS.c.claim == token)
            .values(
                status=status,
                transform_status=stage,
                load_status=stage,
                error=error[:4000],
                updated_at=utcnow(),
            )
        )


def end_attempt(engine: Engine, seen: ObjectInfo, token: str, reason: str) -> None:
    """Record a failed or interrupted attempt at the object ``seen`` before its claim: failed,
    or loaded still when it was a reload (the rollback kept the earlier load's rows)."""
    if seen.status != ObjectStatus.LOADED:
        fail(engine, seen.id, token, reason)
        return
    kept = f"the reload was rolled back and the rows of the earlier load are kept: {reason}"
    fail(engine, seen.id, token, kept, status=ObjectStatus.LOADED)


def mark_dead_claims(engine: Engine, model: str | None = None) -> int:
    """Objects left ``loading`` by a process of this host that no longer runs become
    ``crashed``, or ``loaded`` again when a reload died and the earlier rows are there."""
    columns = (OBJECTS.c.id, OBJECTS.c.pid, OBJECTS.c.claim, OBJECTS.c.loaded_at)
    query = select(*columns, OBJECTS.c.target_table).where(
        OBJECTS.c.status == ObjectStatus.LOADING, OBJECTS.c.host == HOST
    )
    if model is not None:
        query = query.where(OBJECTS.c.model == model)
    with engine.connect() as conn:
        dead = [row for row in conn.execute(query) if not _alive(row.pid)]
    for row in dead:
        died = f"the process that was loading it (pid {row.pid} on {HOST}) died mid-load"
        if row.loaded_at is not None and _has_rows(engine, row.target_table, row.id):
            kept = f"{died}; the reload was rolled back and the rows of the earlier load are kept"
            fail(engine, row.id, row.claim, kept, status=ObjectStatus.LOADED)
            continue
        crashed = f"{died}; its rows were rolled back and the next ingest loads it again"
        fail(engine, row.id, row.claim, crashed, status=ObjectStatus.CRASHED)
    return len(dead)


def _has_rows(engine: Engine, table: str, object_id: str) -> bool:
    """Whether the target ``table`` holds rows of this object (none if it is gone)."""
    target = sa_table(table, column(OBJECT_ID_COLUMN))
    query = select(literal(1)).select_from(target).where(target.c[OBJECT_ID_COLUMN] == object_id)
    try:
        with engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None
    except DBAPIError:
        return False


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    return pid == os.getpid() or pid_alive(pid)
