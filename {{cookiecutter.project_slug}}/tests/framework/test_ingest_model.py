"""A badly declared ingest model is refused at class creation, with every problem listed."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.errors import DefinitionError
from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields


def test_every_problem_of_a_model_is_listed_at_once() -> None:
    with pytest.raises(DefinitionError) as caught:

        class Broken(IngestModel, retries=3):
            __table__ = "bad table"
            __source__ = "data/*.csv"
            label = fields.Method("make_label")

    message = str(caught.value)
    assert message.startswith("4 problems in ")
    assert "ingest model Broken: __table__ must name the target table" in message
    assert "__source__ must be a source: CsvSource('data/in/*.csv')" in message
    assert "field 'label' computes from 'make_label', which is not a method of the model" in message
    assert "unknown class keyword retries; task options are: checks, depends_on" in message


def test_a_model_needs_at_least_one_field() -> None:
    with pytest.raises(DefinitionError, match="declare at least one field"):

        class Empty(IngestModel):
            __table__ = "empty"
            __source__ = CsvSource("data/*.csv")


def test_the_object_column_name_is_reserved() -> None:
    with pytest.raises(DefinitionError, match="field name 'etl_object_id' is reserved"):

        class Clash(IngestModel):
            __table__ = "clash"
            __source__ = CsvSource("data/*.csv")
            etl_object_id = fields.String()


def test_fields_keep_their_declaration_order_and_subclasses_extend_them() -> None:
    class Base(IngestModel, name="base_model"):
        __table__ = "base_model"
        __source__ = CsvSource("data/*.csv")
        b = fields.Integer()
        a = fields.String()

    class Child(Base, name="child_model"):
        __table__ = "child_model"
        c = fields.Date()

    assert [f.name for f in Child.__fields__] == ["b", "a", "c"]
    assert Child.__model_name__ == "child_model" and Child.__task__.name == "child_model"


def test_every_ingest_module_names_its_public_api() -> None:
    import importlib
    import pkgutil

    from {{ cookiecutter.package_name }} import ingest

    names = [info.name for info in pkgutil.iter_modules(ingest.__path__)]
    assert {"fields", "sources", "model", "runner", "ledger", "tables"} <= set(names)
    for name in ["", *names]:
        module = importlib.import_module(f"{ingest.__name__}.{name}".rstrip("."))
        exported = module.__all__
        assert exported == sorted(exported), module.__name__
        assert all(hasattr(module, item) for item in exported), module.__name__
