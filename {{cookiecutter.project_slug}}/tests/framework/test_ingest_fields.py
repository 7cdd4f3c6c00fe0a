"""Field transforms: what each accepts and the reason it gives for what it refuses."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from {{ cookiecutter.package_name }}.ingest import fields
from {{ cookiecutter.package_name }}.ingest.fields import FieldError


def named(field: fields.Field, name: str = "f") -> fields.Field:
    field.__set_name__(object, name)
    return field


ACCEPTED = [
    (fields.String(), "Ada", "Ada"),
    (fields.String(strip=True), "  Ada ", "Ada"),
    (fields.UppercaseString(), "ada", "ADA"),
    (fields.LowercaseString(), "ADA", "ada"),
    (fields.TitlecaseString(), "ada lovelace", "Ada Lovelace"),
    (fields.Integer(), "42", 42),
    (fields.Integer(), 7.0, 7),
    (fields.Float(), "2.5", 2.5),
    (fields.Decimal(scale=2), "10.25", decimal.Decimal("10.25")),
    (fields.Boolean(), "Yes", True),
    (fields.Boolean(), "0", False),
    (fields.Date(), "2024-02-29", dt.date(2024, 2, 29)),
    (fields.Date(format="%d/%m/%Y"), "31/12/2023", dt.date(2023, 12, 31)),
    (fields.DateTime(), "2024-01-02T03:04:05", dt.datetime(2024, 1, 2, 3, 4, 5)),
    (fields.DateTime(), "2024-01-02T03:04:05+02:00", dt.datetime(2024, 1, 2, 1, 4, 5)),
    (fields.DateTime(format="%d.%m.%Y %H:%M"), "02.01.2024 03:04", dt.datetime(2024, 1, 2, 3, 4)),
    (fields.Integer(), "", None),
    (fields.Integer(default=5), None, 5),
]


@pytest.mark.parametrize(("field", "raw", "expected"), ACCEPTED)
def test_a_field_converts_what_it_accepts(
    field: fields.Field, raw: object, expected: object
) -> None:
    assert named(field).convert(raw) == expected


REFUSED = [
    (fields.Integer(required=True), "", "required value is missing"),
    (fields.Integer(), "4.5", "'4.5' is not a whole number"),
    (fields.Integer(), 4.5, "4.5 is not a whole number"),
    (fields.Integer(), True, "is a boolean, not a whole number"),
    (fields.Integer(), str(2**31), "out of range for a 32-bit column"),
    (fields.Float(), "nan", "'nan' is not a finite number"),
    (fields.Float(), "1,5", "'1,5' is not a number"),
    (fields.Decimal(scale=2), "1.005", "has 3 decimal places; at most 2"),
    (fields.Decimal(precision=4, scale=2), "123.4", "too many digits for (4, 2)"),
    (fields.Decimal(), 0.1, "not an exact decimal; give it as text"),
    (fields.Boolean(), "maybe", "'maybe' is not a boolean"),
    (fields.Date(), "2023-02-29", "'2023-02-29' is not a date in the format %Y-%m-%d"),
    (fields.Date(), "24/01/2024", "is not a date in the format %Y-%m-%d"),
    (fields.DateTime(), "yesterday", "'yesterday' is not a date and time in ISO 8601"),
    (fields.String(length=3), "abcd", "4 characters, more than the 3 allowed"),
    (fields.String(), 12, "12 is not text"),
]


@pytest.mark.parametrize(("field", "raw", "reason"), REFUSED)
def test_a_field_refuses_with_a_reason(field: fields.Field, raw: object, reason: str) -> None:
    with pytest.raises(FieldError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        named(field).convert(raw)


def test_the_column_fast_path_and_the_value_path_agree_on_good_and_bad_values() -> None:
    field = named(fields.Integer(), "qty")
    values, errors = field.convert_column(["1", "2", "x", "", " 4"])
    assert values == [1, 2, None, None, 4]
    assert errors == {2: "qty: 'x' is not a whole number"}


def test_a_declaration_names_every_option_so_the_version_sees_them() -> None:
    field = named(fields.Decimal(precision=10, scale=2, required=True), "amount")
    assert field.declaration() == (
        "amount=Decimal(default=None, precision=10, required=True, scale=2, source='amount')"
    )
