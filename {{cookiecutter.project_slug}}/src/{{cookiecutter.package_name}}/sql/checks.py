"""Data checks, dbt-style: each runs in SQL against a table and reports failing rows.

``@Task(checks=[unique("id"), not_null("id", "date"), accepted_values("preds", ["hw", "d",
"aw"]), row_count(min=1)])``, or the same in settings.yml under ``tasks.<name>.checks``.
A check with ``severity="error"`` fails its task; ``"warn"`` only records the outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Connection, Engine, MetaData, Table, and_, func, literal, or_, select
from sqlalchemy.exc import DBAPIError, NoSuchTableError

from ..errors import SQLLayerError
from ..sqltyping import AnySelect
from ..status import CHECK_FAILURES, CheckStatus, Severity
from ..system import first_line

__all__ = [
    "SEVERITIES",
    "Check",
    "CheckOutcome",
    "accepted_values",
    "checks_from_config",
    "not_null",
    "relationships",
    "row_count",
    "unique",
]

SEVERITIES = tuple(severity.value for severity in Severity)
SAMPLE_ROWS = 5


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result: ``status`` is pass, fail (severity error), warn, or error."""

    name: str
    severity: Severity
    status: CheckStatus
    failing_rows: int
    sample: str | None = None
    detail: str = ""  # what failed, briefly: "20 rows" (the table's size for row_count)

    @property
    def failed(self) -> bool:
        """Whether this outcome fails its task."""
        return self.status in CHECK_FAILURES


def _columns(columns: Sequence[str | Sequence[str]], what: str) -> tuple[str, ...]:
    flat = [c for item in columns for c in ([item] if isinstance(item, str) else item)]
    if not flat or not all(isinstance(c, str) and c for c in flat):
        raise SQLLayerError(f"{what}() needs one or more column names, got {list(columns)!r}")
    return tuple(flat)


def _severity(value: str) -> Severity:
    """``value`` as a Severity; anything but ``error`` or ``warn`` is refused."""
    if value not in SEVERITIES:
        raise SQLLayerError(f"check severity must be one of {SEVERITIES}, got {value!r}")
    return Severity(value)


@dataclass(frozen=True, kw_only=True)
class Check:
    """A named SQL assertion; ``table`` overrides the task's own table as the target."""

    severity: Severity = Severity.ERROR
    table: str | None = None
    kind: ClassVar[str] = "check"

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", _severity(self.severity))  # "warn" -> Severity.WARN

    @property
    def name(self) -> str:
        """A readable name, e.g. ``unique(id)``."""
        return f"{self.kind}({', '.join(self._arguments())})"

    def _arguments(self) -> list[str]:
        return []

    def failing(self, target: Table, conn: Connection) -> AnySelect:
        """The rows that break the check."""
        raise NotImplementedError

    def count_failures(self, conn: Connection, target: Table) -> int:
        query = self.failing(target, conn).subquery()
        return int(conn.scalar(select(func.count()).select_from(query)) or 0)

    def run(
        self,
        bind: Engine | Connection,
        *,
        default_table: str,
        schema: str | None = None,
        reading: Mapping[str, str] | None = None,
    ) -> CheckOutcome:
        """Run against ``self.table`` or ``default_table``; problems become an error outcome.

        ``bind`` may be an open connection (a build checked inside its own transaction);
        ``reading`` maps a table name to the one actually read (e.g. a shadow not yet published).
        """
        target_name = self.table or default_table
        physical = (reading or {}).get(target_name, target_name)
        try:
            with _connection(bind) as conn:
                target = Table(physical, MetaData(), schema=schema, autoload_with=conn)
                self._require(target, name=target_name)
                failures = self.count_failures(conn, target)
                rows = []
                if failures:
                    query = self.failing(target, conn).limit(SAMPLE_ROWS)
                    rows = [dict(r) for r in conn.execute(query).mappings()]
        except NoSuchTableError:
            return self._error(f"table {target_name!r} does not exist")
        except (SQLLayerError, DBAPIError) as exc:
            return self._error(first_line(exc))
        sample = json.dumps(rows, default=str) if failures else None
        status = self._status(failures)
        detail = self._detail(failures, rows)
        return CheckOutcome(self.name, self.severity, status, failures, sample, detail)

    def _detail(self, failures: int, sample: list[dict[str, object]]) -> str:
        return _rows(failures)

    def _status(self, failures: int) -> CheckStatus:
        if not failures:
            return CheckStatus.PASS
        return CheckStatus.FAIL if self.severity == Severity.ERROR else CheckStatus.WARN

    def _error(self, message: str) -> CheckOutcome:
        sample = json.dumps({"error": message})
        detail = message.removeprefix(f"{self.name}: ")
        return CheckOutcome(self.name, self.severity, CheckStatus.ERROR, 0, sample, detail)

    def _require(self, target: Table, columns: Sequence[str] = (), name: str = "") -> None:
        wanted = columns or getattr(self, "columns", ())
        missing = [c for c in wanted if c not in target.c]
        if missing:
            raise SQLLayerError(
                f"{self.name}: table {name or target.name!r} has no column(s) {missing}; its "
                f"columns are: {', '.join(target.c.keys())}"
            )


@contextmanager
def _connection(bind: Engine | Connection) -> Iterator[Connection]:
    """The given connection as it is, or a new one from an engine."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn


def _rows(count: object) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


@dataclass(frozen=True, kw_only=True)
class _Unique(Check):
    columns: tuple[str, ...]
    kind: ClassVar[str] = "unique"

    def _arguments(self) -> list[str]:
        return list(self.columns)

    def failing(self, target: Table, conn: Connection) -> AnySelect:
        cols = [target.c[c] for c in self.columns]
        return select(*cols, func.count().label("n")).group_by(*cols).having(func.count() > 1)


@dataclass(frozen=True, kw_only=True)
class _NotNull(Check):
    columns: tuple[str, ...]
    kind: ClassVar[str] = "not_null"

    def _arguments(self) -> list[str]:
        return list(self.columns)

    def failing(self, target: Table, conn: Connection) -> AnySelect:
        return select(target).where(or_(*(target.c[c].is_(None) for c in self.columns)))


@dataclass(frozen=True, kw_only=True)
class _AcceptedValues(Check):
    column: str
    values: tuple[object, ...]
    kind: ClassVar[str] = "accepted_values"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def _arguments(self) -> list[str]:
        return [self.column, repr(list(self.values))]

    def failing(self, target: Table, conn: Connection) -> AnySelect:
        col = target.c[self.column]
        return select(target).where(and_(col.is_not(None), col.not_in(self.values)))


@dataclass(frozen=True, kw_only=True)
class _RowCount(Check):
    min: int | None = None
    max: int | None = None
    kind: ClassVar[str] = "row_count"

    def _arguments(self) -> list[str]:
        return [f"{k}={v}" for k, v in (("min", self.min), ("max", self.max)) if v is not None]

    def _detail(self, failures: int, sample: list[dict[str, object]]) -> str:
        return _rows(sample[0]["rows"]) if sample else ""

    def failing(self, target: Table, conn: Connection) -> AnySelect:
        n = select(func.count()).select_from(target).scalar_subquery()
        bounds = []
        if self.min is not None:
            bounds.append(n < self.min)
        if self.max is not None:
            bounds.append(n > self.max)
        return select(
            n.label("rows"), literal(self.min).label("min"), literal(self.max).label("max")
        ).where(or_(*bounds))


@dataclass(frozen=True, kw_only=True)
class _Relationships(Check):
    column: str
    to: str
    field: str
    kind: ClassVar[str] = "relationships"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def _arguments(self) -> list[str]:
        return [self.column, f"{self.to}.{self.field}"]

    def failing(self, target: Table, conn: Connection) -> AnySelect:
        parent = Table(self.to, MetaData(), schema=target.schema, autoload_with=conn)
        if self.field not in parent.c:
            raise SQLLayerError(f"{self.name}: table {self.to!r} has no column {self.field!r}")
        col = target.c[self.column]
        return select(target).where(col.is_not(None), col.not_in(select(parent.c[self.field])))


def unique(*columns: str, severity: str = Severity.ERROR, table: str | None = None) -> Check:
    """No two rows share the same value(s) of ``columns``."""
    return _Unique(columns=_columns(columns, "unique"), severity=_severity(severity), table=table)


def not_null(*columns: str, severity: str = Severity.ERROR, table: str | None = None) -> Check:
    """None of ``columns`` is NULL in any row."""
    return _NotNull(
        columns=_columns(columns, "not_null"), severity=_severity(severity), table=table
    )


def accepted_values(
    column: str,
    values: Sequence[object],
    *,
    severity: str = Severity.ERROR,
    table: str | None = None,
) -> Check:
    """Every non-NULL value of ``column`` is one of ``values``."""
    _columns([column], "accepted_values")
    if isinstance(values, str) or not list(values):
        raise SQLLayerError(f"accepted_values() needs a non-empty list of values, got {values!r}")
    return _AcceptedValues(
        column=column, values=tuple(values), severity=_severity(severity), table=table
    )


def row_count(
    *,
    min: int | None = None,
    max: int | None = None,
    severity: str = Severity.ERROR,
    table: str | None = None,
) -> Check:
    """The table has at least ``min`` and at most ``max`` rows."""
    if min is None and max is None:
        raise SQLLayerError("row_count() needs min=, max= or both")
    if min is not None and max is not None and min > max:
        raise SQLLayerError(f"row_count(min={min}, max={max}): min is above max")
    return _RowCount(min=min, max=max, severity=_severity(severity), table=table)


def relationships(
    column: str,
    *,
    to: str,
    field: str | None = None,
    severity: str = Severity.ERROR,
    table: str | None = None,
) -> Check:
    """Every non-NULL ``column`` value exists in ``to.field`` (a foreign key, checked)."""
    _columns([column], "relationships")
    return _Relationships(
        column=column, to=to, field=field or column, severity=_severity(severity), table=table
    )


# Each takes its own arguments, as settings.yml spells them.
_FACTORIES: dict[str, Callable[..., Check]] = {
    "unique": unique,
    "not_null": not_null,
    "accepted_values": accepted_values,
    "row_count": row_count,
    "relationships": relationships,
}


def checks_from_config(items: object, *, where: str = "checks") -> list[Check]:
    """Checks written in settings.yml, e.g. ``- unique: [id]`` or ``- row_count: {min: 1}``."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise SQLLayerError(f"{where} must be a list of checks, got {items!r}")
    built, problems = [], []
    for index, item in enumerate(items):
        try:
            built.append(_one_check(item))
        except (SQLLayerError, TypeError) as exc:
            problems.append(f"{where}[{index}]: {exc}")
    if problems:
        raise SQLLayerError("; ".join(problems))
    return built


def _one_check(item: object) -> Check:
    if not isinstance(item, Mapping) or len(item) != 1:
        raise SQLLayerError(
            f"each check is a one-key mapping such as {{unique: [id]}}, got {item!r}"
        )
    ((kind, args),) = item.items()
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise SQLLayerError(f"unknown check {kind!r}; known: {', '.join(sorted(_FACTORIES))}")
    if isinstance(args, str):
        return factory(args)
    if isinstance(args, list):
        return factory(*args)
    if isinstance(args, Mapping):
        args = dict(args)
        if kind in ("unique", "not_null"):
            columns = args.pop("columns", args.pop("column", []))
            return factory(*([columns] if isinstance(columns, str) else columns), **args)
        return factory(**args)
    raise SQLLayerError(f"arguments of {kind!r} must be a name, a list or a mapping, got {args!r}")
