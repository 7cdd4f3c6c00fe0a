"""Type names accepted by ``DataFrame.cast`` besides SQLAlchemy type objects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import types as sqltypes

from ..errors import SQLLayerError

__all__ = ["resolve_type"]

_NAMES: dict[str, sqltypes.TypeEngine[Any]] = {
    "int": sqltypes.Integer(),
    "integer": sqltypes.Integer(),
    "bigint": sqltypes.BigInteger(),
    "long": sqltypes.BigInteger(),
    "float": sqltypes.Float(),
    "double": sqltypes.Float(),
    "decimal": sqltypes.Numeric(18, 6),
    "numeric": sqltypes.Numeric(18, 6),
    "string": sqltypes.String(255),
    "str": sqltypes.String(255),
    "text": sqltypes.Text(),
    "date": sqltypes.Date(),
    "datetime": sqltypes.DateTime(),
    "timestamp": sqltypes.DateTime(),
    "bool": sqltypes.Boolean(),
    "boolean": sqltypes.Boolean(),
}


def resolve_type(type_: object) -> sqltypes.TypeEngine[Any]:
    """A SQLAlchemy type from a type object, a type class or a name such as ``"integer"``."""
    if isinstance(type_, sqltypes.TypeEngine):
        return type_
    if isinstance(type_, type) and issubclass(type_, sqltypes.TypeEngine):
        return type_()
    if isinstance(type_, str) and type_.lower() in _NAMES:
        return _NAMES[type_.lower()]
    raise SQLLayerError(
        f"cannot cast to {type_!r}; use a SQLAlchemy type such as Integer() or one of: "
        + ", ".join(sorted(_NAMES))
    )
