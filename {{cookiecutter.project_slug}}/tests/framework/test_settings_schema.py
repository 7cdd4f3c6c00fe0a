"""settings.schema.json: generated from the settings model, current, and true to settings.yml.

Editors read it through settings.yml's first line; a model change without
``python -m <package> settings-schema`` leaves it stale, which fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.settings_schema import SCHEMA_FILE, is_current, schema_text

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SETTINGS = PROJECT_ROOT / "settings.yml"


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((PROJECT_ROOT / SCHEMA_FILE).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def shipped() -> dict[str, object]:
    return yaml.safe_load(SETTINGS.read_text(encoding="utf-8"))


def test_the_committed_schema_is_the_one_the_model_generates() -> None:
    committed = (PROJECT_ROOT / SCHEMA_FILE).read_text(encoding="utf-8")
    assert is_current(
        committed
    ), f"{SCHEMA_FILE} is stale: run `python -m <package> settings-schema` and commit it"


def test_settings_yml_names_the_schema_on_its_first_line() -> None:
    first = SETTINGS.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=./{SCHEMA_FILE}"


def test_the_shipped_settings_yml_validates() -> None:
    assert [error.message for error in validator().iter_errors(shipped())] == []


def test_variables_are_accepted_where_numbers_booleans_and_choices_go() -> None:
    data = shipped()
    data["executor"] = {"kind": "${EXECUTOR_KIND:-threads}", "workers": "${WORKERS:-4}"}
    data["notify"] = {
        "format": "${ALERT_FORMAT}",
        "events": ["failed", "${MORE_EVENTS}"],
        "smtp": {"host": "h", "port": "${SMTP_PORT:-587}", "from": "a@x.org", "to": ["b@x.org"]},
    }
    assert [error.message for error in validator().iter_errors(data)] == []


@pytest.mark.parametrize(
    ("section", "block", "said"),
    [
        ("executor", {"workerz": 4}, "'workerz' was unexpected"),
        ("executor", {"workers": "four"}, "'four' is not valid"),
        ("notify", {"format": "discord"}, "'discord' is not valid"),
        ("notify", {"events": ["exploded"]}, "'exploded' is not valid"),
    ],
)
def test_a_typo_or_a_wrong_value_is_caught_by_the_schema(
    section: str, block: dict[str, object], said: str
) -> None:
    data = {**shipped(), section: block}
    messages = [error.message for error in validator().iter_errors(data)]
    assert any(said in message for message in messages), messages


def test_the_command_writes_the_schema_and_checks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "settings.yml").write_text(SETTINGS.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("PIPELINE_SETTINGS", str(tmp_path / "settings.yml"))
    target = tmp_path / SCHEMA_FILE
    for args, code in ((["--check"], 1), ([], 0), (["--check"], 0)):
        with pytest.raises(SystemExit) as caught:
            main(["settings-schema", *args])
        assert caught.value.code == code, capsys.readouterr()
    assert target.read_text(encoding="utf-8") == schema_text()
