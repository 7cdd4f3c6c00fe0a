"""PyDBT's ``connections.postgresql``: the project's engine, refused unless it is PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine

from ..db.connections import project_engine
from ..settings import Settings

__all__ = ["get_engine"]


def get_engine(settings: Settings | None = None) -> Engine:
    """The project's engine; a clear error when settings.yml points at another kind."""
    return project_engine("postgresql", settings)
