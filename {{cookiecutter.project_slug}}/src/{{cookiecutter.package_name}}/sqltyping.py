"""SQLAlchemy statement and row types of any columns, for annotations.

``Select`` and ``Row`` are generic over their column types; the framework builds queries whose
columns are only known at run time, so it annotates them as a query (row) of any columns.
"""

from typing import Any, TypeAlias

from sqlalchemy import Row, Select

__all__ = ["AnyRow", "AnySelect"]

AnySelect: TypeAlias = Select[*tuple[Any, ...]]
AnyRow: TypeAlias = Row[*tuple[Any, ...]]
