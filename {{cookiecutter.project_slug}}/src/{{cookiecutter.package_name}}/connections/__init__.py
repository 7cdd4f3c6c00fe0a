"""The project's database engine, where PyDBT's ``connections`` modules hand it out.

    from <package>.connections import get_engine             # whatever the project uses
    from <package>.connections.postgresql import get_engine  # refuses any other kind

Each call builds a new engine from settings.yml (or ``DATABASE_URL``); the code lives in
``db/connections.py``.
"""

from __future__ import annotations

from sqlalchemy import Engine

from ..db.connections import project_engine
from ..settings import Settings

__all__ = ["get_engine"]


def get_engine(settings: Settings | None = None) -> Engine:
    """The project's engine, whatever the kind of its database."""
    return project_engine(None, settings)
