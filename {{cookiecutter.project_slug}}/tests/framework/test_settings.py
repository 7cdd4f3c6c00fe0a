"""settings.yml: interpolation, the DATABASE_URL override, and one message for every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import SettingsError
from {{ cookiecutter.package_name }}.settings import load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "PIPELINE_SETTINGS", "APP_PASSWORD", "APP_HOST"):
        monkeypatch.delenv(name, raising=False)


def test_the_shipped_settings_file_loads() -> None:
    settings = load_settings(Path(__file__).resolve().parents[2] / "settings.yml")
    assert settings.project.models_dir == "models"


def test_defaults_to_a_sqlite_file_under_data(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "project:\n  name: demo\n"))
    url = settings.database_url
    assert url.get_backend_name() == "sqlite"
    assert Path(url.database) == (tmp_path / "data" / "warehouse.db").resolve()


def test_relative_sqlite_paths_resolve_against_the_project_root(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, "project:\n  name: demo\nconnection:\n  url: sqlite:///db/x.db\n")
    )
    assert Path(settings.database_url.database) == (tmp_path / "db" / "x.db").resolve()


def test_variables_come_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("APP_PASSWORD", "s3cret")
    path = write(
        tmp_path,
        "project:\n  name: demo\nconnection:\n  sql_alchemy_driver: mysql+pymysql\n"
        "  host: ${APP_HOST:-db.local}\n  user: app\n  password: ${APP_PASSWORD}\n  db: sales\n",
    )
    url = load_settings(path).database_url
    assert (url.host, url.password, url.database) == ("db.local", "s3cret", "sales")


def test_variables_come_from_a_dotenv_file_beside_settings(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("APP_PASSWORD=from-dotenv\n", encoding="utf-8")
    path = write(
        tmp_path,
        "project:\n  name: demo\nconnection:\n  sql_alchemy_driver: mysql+pymysql\n"
        "  host: h\n  password: ${APP_PASSWORD}\n",
    )
    assert load_settings(path).database_url.password == "from-dotenv"


def test_the_environment_wins_over_dotenv(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".env").write_text("APP_HOST=from-dotenv\n", encoding="utf-8")
    monkeypatch.setenv("APP_HOST", "from-env")
    path = write(tmp_path, "project:\n  name: ${APP_HOST}\n")
    assert load_settings(path).project.name == "from-env"


def test_database_url_overrides_the_connection_block(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/override.db")
    path = write(
        tmp_path,
        "project:\n  name: demo\nconnection:\n  sql_alchemy_driver: mysql+pymysql\n"
        "  password: ${APP_PASSWORD}\n",
    )
    assert str(load_settings(path).database_url) == "sqlite:////tmp/override.db"


def test_an_unset_variable_names_the_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "project:\n  name: demo\nconnection:\n  password: ${APP_PASSWORD}\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert "connection.password (line 4): ${APP_PASSWORD} is not set" in str(caught.value)


def test_an_unknown_key_names_the_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "project:\n  name: demo\n  modles_dir: models\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert "project.modles_dir (line 3): unknown key" in str(caught.value)


def test_a_wrong_type_names_the_key_line_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, "project:\n  name: demo\nexecutor:\n  workers: many\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "executor.workers (line 4)" in message and "'many'" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "project:\n  name: demo\n  colour: blue\nexecutor:\n  workers: 0\n"
        "tasks:\n  t:\n    materialize: cube\n",
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert len(caught.value.problems) == 3
    assert str(caught.value).startswith(f"3 problems in {path}:")


def test_a_missing_required_section_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"project: required key is missing"):
        load_settings(write(tmp_path, "tasks: {}\n"))


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "project:\n  name: demo\n  models_dir: [models\n")
    with pytest.raises(SettingsError, match=r"line \d+, column \d+: broken YAML"):
        load_settings(path)


def test_a_missing_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read the file"):
        load_settings(tmp_path / "nope.yml")


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "project:\n  name: demo\n"))
    with pytest.raises(Exception):
        settings.project.name = "changed"  # type: ignore[misc]


def test_task_blocks_become_plain_dicts(tmp_path: Path) -> None:
    path = write(
        tmp_path, "project:\n  name: demo\ntasks:\n  t:\n    materialize: TABLE\n    limit: 5\n"
    )
    settings = load_settings(path)
    assert settings.task_config("t") == {"materialize": "table", "limit": 5}
    assert settings.task_config("absent") == {}


def test_outside_development_the_example_passwords_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_ENV", "production")
    example = "mysql+pymysql://pipeline:pipeline-dev-password@db:3306/app"
    monkeypatch.setenv("DATABASE_URL", example)
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, "project:\n  name: x\n"))
    message = str(caught.value)
    assert "PIPELINE_ENV is 'production'" in message and "MYSQL_PASSWORD" in message
    assert "pipeline-dev-password" not in message
    monkeypatch.setenv("DATABASE_URL", example.replace("pipeline-dev-password", "s3cret"))
    assert load_settings(write(tmp_path, "project:\n  name: x\n")).database_url.password == "s3cret"


def test_in_development_the_example_passwords_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_ENV", raising=False)
    monkeypatch.setenv("DATABASE_URL", "mysql+pymysql://pipeline:pipeline-dev-password@db/app")
    assert load_settings(write(tmp_path, "project:\n  name: x\n")).database_url.host == "db"
