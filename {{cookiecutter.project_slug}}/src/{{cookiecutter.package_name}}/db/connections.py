"""The project's engine for code that asks for one by dialect, as PyDBT's
``connections.postgresql.get_engine()`` does: the engine of settings.yml (or ``DATABASE_URL``),
refused in one paragraph when the project's database is of another kind."""

from __future__ import annotations

from sqlalchemy import Engine

from ..errors import DatabaseSetupError
from ..settings import Settings, load_settings
from ..system import MYSQL_BACKENDS
from .diagnosis import checked_url, shown_url
from .engine import engine_from_settings

__all__ = ["DIALECTS", "project_engine"]

# A dialect module's name -> the SQLAlchemy backend names it accepts, and how it is called.
DIALECTS: dict[str, tuple[frozenset[str], str]] = {
    "postgresql": (frozenset({"postgresql"}), "PostgreSQL"),
    "mysql": (MYSQL_BACKENDS, "MySQL/MariaDB"),
    "sqlite": (frozenset({"sqlite"}), "SQLite"),
}


def project_engine(dialect: str | None = None, settings: Settings | None = None) -> Engine:
    """A new engine on the project database; with ``dialect``, only if it is of that kind."""
    settings = settings or load_settings()
    if dialect is not None:
        _check_dialect(dialect, settings)
    return engine_from_settings(settings)


def _check_dialect(dialect: str, settings: Settings) -> None:
    accepted, title = DIALECTS[dialect]
    url = checked_url(settings)
    backend = url.get_backend_name()
    if backend in accepted:
        return
    actual = next((name for name, (names, _) in DIALECTS.items() if backend in names), None)
    source = "DATABASE_URL" if settings.database_url_env else "settings.yml's connection block"
    instead = f" or from connections.{actual}" if actual else ""
    raise DatabaseSetupError(
        "wrong dialect",
        shown_url(url),
        f"connections.{dialect}.get_engine() opens a {title} database, but the project's "
        f"database is {backend} ({shown_url(url)}, from {source}); import get_engine from "
        f"connections (the project's database, whatever its kind){instead}, or point "
        f"{source} at a {title} database",
    )
