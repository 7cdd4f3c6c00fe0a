"""settings.yml, loaded into a validated, frozen Settings object.

The file follows pydwt's sections (``project``, ``connection``, ``tasks``, ``sources``) plus
``executor``, ``dashboard`` and ``notify`` (run alerts). String values may use ``${VAR}`` or ``${VAR:-default}``; a
``.env`` file beside settings.yml is read first (it never overrides the real environment), and
``DATABASE_URL`` in the environment overrides the ``connection`` block.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from .errors import SettingsError
from .notify_settings import NotifySettings
from .source_settings import SourceSettings

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

SETTINGS_FILE = "settings.yml"
SETTINGS_ENV = "PIPELINE_SETTINGS"
DATABASE_ENV = "DATABASE_URL"
# Where the project runs: ``dev`` (the default) and ``test`` accept the example passwords of
# .env.example and docker compose; anything else (``production``, ``staging``) refuses them.
ENVIRONMENT_ENV = "PIPELINE_ENV"
LOCAL_ENVIRONMENTS = ("dev", "test")
DEV_PASSWORD_SUFFIX = "-dev-password"  # noqa: S105 (a marker of local passwords)
# Where a value sits in settings.yml: keys and list indexes from the top.
YamlPath = tuple[str | int, ...]
_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectSettings(_Frozen):
    name: str
    models_dir: str = "models"
    dags_dir: str = "dags"
    data_dir: str = "data"


class ConnectionSettings(_Frozen):
    """Either a full SQLAlchemy ``url`` or pydwt's separate fields."""

    url: str | None = None
    sql_alchemy_driver: str | None = None
    db: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    query: dict[str, str] = Field(default_factory=dict)
    pool_recycle: int = Field(default=280, ge=1)
    echo: bool = False


class ExecutorSettings(_Frozen):
    kind: Literal["threads", "dask"] = "threads"
    workers: int = Field(default=4, ge=1)
    address: str | None = None


class DashboardSettings(_Frozen):
    host: str = "127.0.0.1"
    port: int = Field(default=8501, ge=1, le=65535)
    url: str | None = None  # read-only connection; falls back to the main one


class TaskSettings(BaseModel):
    """A task's block: free-form keys for the task, plus the ones the engine reads."""

    model_config = ConfigDict(extra="allow", frozen=True)

    materialize: Literal["table", "view", "incremental"] | None = None
    sources: list[str] | None = None  # names under `sources:` the task reads

    @field_validator("materialize", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


class Settings(_Frozen):
    """The whole of settings.yml; ``root`` is the folder that holds it."""

    project: ProjectSettings
    connection: ConnectionSettings = Field(default_factory=ConnectionSettings)
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    tasks: dict[str, TaskSettings] = Field(default_factory=dict)
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    stages: dict[str, list[str]] = Field(default_factory=dict)
    root: Path = Path(".")
    # ``DATABASE_URL`` as the environment held it when the file was loaded (never shown: it may
    # hold a password).
    database_url_env: str | None = Field(default=None, repr=False)
    # The line of each section's keys in settings.yml ("tasks.orders" -> 12), for messages.
    key_lines: dict[str, int] = Field(default_factory=dict, repr=False)

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("sources", mode="before")
    @classmethod
    def _source_tables(cls, value: object) -> object:
        """A source without ``table:`` names its own table."""
        if not isinstance(value, dict):
            return value
        named = {alias: {"table": alias} for alias in value}
        return {
            alias: {**named[alias], **block} if isinstance(block, dict) else block or named[alias]
            for alias, block in value.items()
        }

    @property
    def database_url(self) -> URL:
        """The project database: ``DATABASE_URL`` if it was set, else the ``connection`` block."""
        override = self.database_url_env
        if override:
            return _absolute_sqlite(make_url(override), self.root)
        conn = self.connection
        if conn.url:
            return _absolute_sqlite(make_url(conn.url), self.root)
        if conn.sql_alchemy_driver:
            url = URL.create(
                conn.sql_alchemy_driver,
                username=conn.user,
                password=conn.password,
                host=conn.host,
                port=conn.port,
                database=conn.db,
                query=conn.query,
            )
            return _absolute_sqlite(url, self.root)
        return make_url(f"sqlite:///{self.root / self.project.data_dir / 'warehouse.db'}")

    def task_config(self, name: str) -> dict[str, Any]:
        """The ``tasks.<name>`` block as a plain dict (empty when absent)."""
        block = self.tasks.get(name)
        return block.model_dump(exclude_none=True) if block else {}

    def path(self, relative: str) -> Path:
        """A path from settings.yml, resolved against the project root."""
        return (self.root / relative).resolve()


def _absolute_sqlite(url: URL, root: Path) -> URL:
    """Resolve a relative SQLite file against the project root, not the working directory."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(url.database)
        if not database.is_absolute():
            return url.set(database=str((root / database).resolve()))
    return url


def find_settings(start: Path | None = None) -> Path:
    """``$PIPELINE_SETTINGS``, else the nearest settings.yml from ``start`` upwards."""
    explicit = os.environ.get(SETTINGS_ENV)
    if explicit:
        return Path(explicit)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / SETTINGS_FILE
        if candidate.is_file():
            return candidate
    raise SettingsError(
        str(here / SETTINGS_FILE),
        [
            f"no {SETTINGS_FILE} here or in any parent folder; run from the project folder "
            f"or set {SETTINGS_ENV}"
        ],
    )


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read, interpolate and validate settings.yml; every problem is reported at once."""
    file = Path(path) if path is not None else find_settings()
    shown = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(shown, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SettingsError(shown, [_yaml_problem(exc)]) from exc
    if not isinstance(raw, dict):
        raise SettingsError(shown, ["line 1: the file must be a mapping with a 'project' key"])
    env = {**_dotenv(file.parent), **os.environ}
    unset: list[tuple[YamlPath, str]] = []
    data = {key: _interpolate(value, (key,), env, unset) for key, value in raw.items()}
    if env.get(DATABASE_ENV):  # it replaces the connection block, so that block may be unset
        unset = [(path, name) for path, name in unset if path[:1] != ("connection",)]
    problems = _duplicate_keys(node, ())
    problems += [
        f"{_where(path, node)}: ${{{name}}} is not set; define it in the environment or .env, "
        f"or give a default with ${{{name}:-value}}"
        for path, name in unset
    ]
    try:
        fixed = {
            "root": file.parent.resolve(),
            "database_url_env": os.environ.get(DATABASE_ENV),
            "key_lines": _section_lines(node),
        }
        settings = Settings.model_validate({**data, **fixed})
    except ValidationError as exc:
        problems += [_pydantic_problem(err, node) for err in exc.errors()]
        settings = None
    problems += _unknown_sources(settings, node) if settings is not None else []
    if problems or settings is None:
        raise SettingsError(shown, problems)
    environment = env.get(ENVIRONMENT_ENV, "").strip() or LOCAL_ENVIRONMENTS[0]
    if environment not in LOCAL_ENVIRONMENTS:
        _refuse_dev_passwords(settings, environment, shown)
    return settings


def _refuse_dev_passwords(settings: Settings, environment: str, shown: str) -> None:
    """Outside local development, a connection still using an example password is refused."""
    urls = {"the database": _parsed(settings, None), "dashboard.url": None}
    if settings.dashboard.url:
        urls["dashboard.url"] = _parsed(settings, settings.dashboard.url)
    problems = [
        f"{ENVIRONMENT_ENV} is {environment!r} but {what} uses an example password (ending in "
        f"{DEV_PASSWORD_SUFFIX!r}); set the real one in the environment (MYSQL_PASSWORD, "
        f"MYSQL_READONLY_PASSWORD or DATABASE_URL), or {ENVIRONMENT_ENV}=dev on a development "
        "machine"
        for what, url in urls.items()
        if url is not None and str(url.password or "").endswith(DEV_PASSWORD_SUFFIX)
    ]
    if problems:
        raise SettingsError(shown, problems)


def _parsed(settings: Settings, url: str | None) -> URL | None:
    """``url`` (default: the database's) parsed, or None when malformed (reported on use)."""
    try:
        return make_url(url) if url else settings.database_url
    except ArgumentError:
        return None


def _unknown_sources(settings: Settings, node: yaml.Node | None) -> list[str]:
    """``tasks.<name>.sources`` entries that no ``sources:`` block defines."""
    known = ", ".join(sorted(settings.sources)) or "<none>"
    return [
        f"{_where(('tasks', name, 'sources', index), node)}: no source {alias!r} under "
        f"`sources:`; define it there or fix the name (known: {known})"
        for name, block in settings.tasks.items()
        for index, alias in enumerate(block.sources or ())
        if alias not in settings.sources
    ]


def _duplicate_keys(node: yaml.Node | None, path: YamlPath) -> list[str]:
    """A key written twice in one mapping: YAML keeps the last silently, so it is refused."""
    problems: list[str] = []
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, (*path, index))
    if not isinstance(node, yaml.MappingNode):
        return problems
    seen: dict[str, int] = {}
    for key, value in node.value:
        name, line = str(key.value), key.start_mark.line + 1
        dotted = ".".join(str(part) for part in (*path, name))
        if name in seen and name != "<<":
            problems.append(
                f"{dotted} (lines {seen[name]} and {line}): the key is written twice and only "
                f"the last would count; keep one"
            )
        seen.setdefault(name, line)
        problems += _duplicate_keys(value, (*path, name))
    return problems


def _section_lines(node: yaml.Node | None) -> dict[str, int]:
    """``section.key`` -> line, for the keys of each top-level section."""
    lines: dict[str, int] = {}
    for key, value in node.value if isinstance(node, yaml.MappingNode) else ():
        for inner, _ in value.value if isinstance(value, yaml.MappingNode) else ():
            lines.setdefault(f"{key.value}.{inner.value}", inner.start_mark.line + 1)
    return lines


def _dotenv(folder: Path) -> dict[str, str]:
    env_file = folder / ".env"
    if not env_file.is_file():
        return {}
    return {key: value for key, value in dotenv_values(env_file).items() if value is not None}


def _interpolate(
    value: object, path: YamlPath, env: Mapping[str, str], unset: list[tuple[YamlPath, str]]
) -> object:
    """Replace ``${VAR}``/``${VAR:-default}`` in every string; unset names go to ``unset``."""
    if isinstance(value, dict):
        return {k: _interpolate(v, (*path, k), env, unset) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*path, i), env, unset) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        if env.get(name):
            return env[name]
        if default is not None:
            return default
        unset.append((path, name))
        return ""

    return _VAR.sub(replace, value)


def _pydantic_problem(error: ErrorDetails, node: yaml.Node | None) -> str:
    loc = tuple(part for part in error["loc"] if part != "root")
    if error["type"] == "extra_forbidden":
        return f"{_where(loc, node)}: unknown key; remove it or check its spelling"
    if error["type"] == "missing":
        inside = f" under {_where(loc[:-1], node)}" if len(loc) > 1 else ""
        return f"{'.'.join(map(str, loc))}: required key is missing{inside}"
    given = error.get("input")
    shown = "" if isinstance(given, (dict, list)) else f" (got {given!r})"
    return f"{_where(loc, node)}: {error['msg']}{shown}"


def _where(path: YamlPath, node: yaml.Node | None) -> str:
    """``key.path (line N)`` for a location in the YAML tree, as close as the tree allows."""
    dotted = ".".join(str(part) for part in path) or "<top>"
    line = _line_of(path, node)
    return f"{dotted} (line {line})" if line else dotted


def _line_of(path: YamlPath, node: yaml.Node | None) -> int | None:
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                return line
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: broken YAML: {problem}"
    return f"broken YAML: {problem}"
