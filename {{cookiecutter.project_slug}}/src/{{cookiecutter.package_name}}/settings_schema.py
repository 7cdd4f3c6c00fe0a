"""settings.schema.json: the JSON Schema of settings.yml, generated from the settings model.

settings.yml's first line points editors at it (``# yaml-language-server: $schema=...``), so
keys complete and typos are underlined while typing. The schema describes the file as written:
any value may be a ``${VAR}`` or ``${VAR:-default}`` string, expanded only when it is loaded.
``python -m <package> settings-schema`` writes it again after the model changes.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from .settings import Settings, find_settings

__all__ = ["SCHEMA_FILE", "is_current", "schema_command", "schema_text", "settings_schema"]

SCHEMA_FILE = "settings.schema.json"
# Fields the loader fills in itself: never written in settings.yml.
_INTERNAL = ("root", "database_url_env", "key_lines")
# A string holding at least one ${VAR} or ${VAR:-default}.
_VARIABLE = {"type": "string", "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}"}
_NOT_STRINGS = {"integer", "number", "boolean"}


def settings_schema() -> dict[str, Any]:
    """The schema of settings.yml: the model's, without internal fields, ``${VAR}`` allowed."""
    schema = Settings.model_json_schema(by_alias=True)
    for name in _INTERNAL:
        schema["properties"].pop(name, None)
    schema["title"] = "settings.yml"
    definitions = schema.get("$defs", {})
    for name, definition in definitions.items():
        definitions[name] = _or_variable(definition)
    _allow_variables(schema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(settings_schema(), indent=2, ensure_ascii=False) + "\n"


def is_current(committed: str | None) -> bool:
    """Whether the committed text says what the model generates: compared as JSON, since
    pydantic releases spell the same bound differently (``0`` or ``0.0``)."""
    return committed is not None and json.loads(committed) == settings_schema()


def schema_command(
    check: Annotated[
        bool, typer.Option("--check", help="Only say whether the file is current (exit 1 if not).")
    ] = False,
) -> None:
    """Write settings.schema.json beside settings.yml, from the settings model."""
    target = find_settings().parent / SCHEMA_FILE
    text = schema_text()
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if check:
        if not is_current(current):
            typer.echo(f"{target} is stale: run `settings-schema` to write it again", err=True)
            raise typer.Exit(1)
        typer.echo(f"{target} is current")
        return
    if current != text:
        target.write_text(text, encoding="utf-8")
    typer.echo(str(target))


def _allow_variables(node: dict[str, Any]) -> None:
    """Let every property that is not a plain string also be a ``${VAR}`` string."""
    for key in ("properties", "patternProperties"):
        for name, child in list(node.get(key, {}).items()):
            node[key][name] = _or_variable(child)
    for key in ("additionalProperties", "items"):
        if isinstance(node.get(key), dict):
            node[key] = _or_variable(node[key])


def _or_variable(node: dict[str, Any]) -> dict[str, Any]:
    """``node``, or ``{anyOf: [node, ${VAR}]}`` when it accepts something besides strings."""
    _allow_variables(node)
    for key in ("anyOf", "oneOf"):
        for index, option in enumerate(node.get(key, [])):
            node[key][index] = _or_variable(option)
    if _needs_variable(node):
        described: dict[str, Any] = {
            k: node.pop(k) for k in ("title", "description", "default") if k in node
        }
        return {**described, "anyOf": [node, _VARIABLE]}
    return node


def _needs_variable(node: dict[str, Any]) -> bool:
    """A scalar that is not a free string: a number, a boolean, an enum or a format."""
    kind = node.get("type")
    if kind in _NOT_STRINGS or "enum" in node or "const" in node:
        return True
    return kind == "string" and ("format" in node or "pattern" in node) and node is not _VARIABLE
