"""Run alerts: a failing run POSTs to a real local webhook (Slack, Teams or JSON body) and
e-mails through a real local SMTP server; a receiver that is down or refusing costs the run one
warning line and never its exit code; the webhook's secret and the SMTP password never show."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from engine_support import migrated, run, write_models
from notify_support import (
    SECRET_PATH,
    SECRET_QUERY,
    SMTP_PASSWORD,
    Mailbox,
    Webhook,
    closed_port_url,
    mailbox,
    set_notify,
    silent_url,
    webhook,
)

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.ledger import Ledger
from {{ cookiecutter.package_name }}.db.models import TASKS
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

__all__ = ["mailbox", "migrated", "silent_url", "webhook"]

FAILING = """
    from {{ cookiecutter.package_name }}.core.task import Task

    @Task()
    def extract():
        pass

    @Task(depends_on=[extract])
    def load():
        raise ValueError("the feed is empty today\\nsee the supplier's status page")
"""
FIXED = FAILING.replace("raise ValueError(", "print(")
CHECKED = """
    from {{ cookiecutter.package_name }}.core.task import Task
    from {{ cookiecutter.package_name }}.sql.checks import row_count

    @Task(checks=[row_count(min=MIN)])
    def report(session):
        return session.sql("SELECT 1 AS id")
"""
DASHBOARD = "http://dash.example.org:8501/"


@pytest.fixture
def sqlite_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test project on its own SQLite file, migrated; the CLI finds its settings.yml."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PIPELINE_SETTINGS", str(project / "settings.yml"))
    upgrade(load_settings(project / "settings.yml"))
    return project


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``main(args)`` in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as caught:
        main(list(args))
    out, err = capsys.readouterr()
    return caught.value.code, out, err


def run_id_of(err: str) -> str:
    return re.search(r"run (\S+) started", err).group(1)


def hook_to(root: Path, url: str, monkeypatch: pytest.MonkeyPatch, **block: object) -> None:
    """``notify:`` posting to ``url``, read from PIPELINE_WEBHOOK_URL as settings.yml does."""
    monkeypatch.setenv("PIPELINE_WEBHOOK_URL", url)
    set_notify(root, webhook_url="${PIPELINE_WEBHOOK_URL}", dashboard_url=DASHBOARD, **block)


def test_a_failed_run_posts_its_id_failed_task_and_first_error_line(
    sqlite_project: Path, webhook: Webhook, capsys, monkeypatch
) -> None:
    write_models(sqlite_project, FAILING)
    hook_to(sqlite_project, webhook.url, monkeypatch, format="json")
    code, out, err = invoke(capsys, "run")
    assert code == 1
    run_id = run_id_of(err)
    [(path, body)] = webhook.posts
    assert path == f"{SECRET_PATH}?{SECRET_QUERY}"
    assert (body["run_id"], body["events"], body["status"]) == (run_id, ["failed"], "failed")
    assert body["failed_tasks"] == [
        {"task": "load", "error": "ValueError: the feed is empty today"}
    ]
    assert body["link"] == f"{DASHBOARD}run-detail?run={run_id}"
    assert "alert not sent" not in err


@pytest.mark.parametrize("fmt", ["slack", "teams", "json"])
def test_each_format_carries_the_run_the_task_and_its_error(
    fmt: str, sqlite_project: Path, webhook: Webhook, capsys, monkeypatch
) -> None:
    write_models(sqlite_project, FAILING)
    hook_to(sqlite_project, webhook.url, monkeypatch, format=fmt)
    code, _, err = invoke(capsys, "run")
    run_id = run_id_of(err)
    [body] = webhook.bodies
    if fmt == "slack":
        assert body["text"] == f"{load_settings().project.name}: run {run_id} has failed"
        section = body["blocks"][0]["text"]["text"]
        assert "`load: ValueError: the feed is empty today`" in section
        assert f"run-detail?run={run_id}|" in body["blocks"][1]["elements"][0]["text"]
    elif fmt == "teams":
        [attachment] = body["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = attachment["content"]
        assert card["type"] == "AdaptiveCard"
        texts = [block["text"] for block in card["body"]]
        assert run_id in texts[0] and "load: ValueError: the feed is empty today" in texts
        assert card["actions"][0]["url"].endswith(f"run-detail?run={run_id}")
    else:
        assert body["run_id"] == run_id and body["failed_tasks"][0]["task"] == "load"
    assert "see the supplier" not in str(body)  # the first error line only


def test_a_receiver_that_is_down_costs_one_warning_line_never_the_exit_code(
    sqlite_project: Path, capsys, monkeypatch
) -> None:
    url = closed_port_url()
    hook_to(sqlite_project, url, monkeypatch)
    write_models(sqlite_project, FAILING)
    started = time.monotonic()
    failed_code, failed_out, failed_err = invoke(capsys, "run")
    elapsed = time.monotonic() - started
    write_models(sqlite_project, FIXED)  # the next run recovers: its alert fails too
    fixed_code, fixed_out, fixed_err = invoke(capsys, "run")
    assert (failed_code, fixed_code) == (1, 0)
    for err in (failed_err, fixed_err):
        [warning] = [line for line in err.splitlines() if "alert not sent" in line]
        assert "webhook http://127.0.0.1:" in warning and "/*** after 3 attempts" in warning
        assert "ConnectionRefusedError" in warning or "URLError" in warning
    said = failed_out + failed_err + fixed_out + fixed_err
    assert SECRET_PATH not in said and "s3cretWebhookToken" not in said
    assert "qu3rySecret" not in said
    assert elapsed < 15, elapsed


def test_a_receiver_that_never_answers_holds_the_run_up_twice_its_timeout_at_most(
    sqlite_project: Path, silent_url: str, capsys, monkeypatch
) -> None:
    hook_to(sqlite_project, silent_url, monkeypatch, timeout=0.5)
    write_models(sqlite_project, FAILING)
    started = time.monotonic()
    code, out, err = invoke(capsys, "run")
    elapsed = time.monotonic() - started
    assert code == 1
    [warning] = [line for line in err.splitlines() if "alert not sent" in line]
    assert "timed out" in warning and "s3cretWebhookToken" not in out + err
    assert elapsed < 4, elapsed  # the run itself takes well under a second


def test_a_refusing_receiver_is_retried_and_its_secret_stays_hidden(
    sqlite_project: Path, webhook: Webhook, capsys, monkeypatch
) -> None:
    hook_to(sqlite_project, webhook.url, monkeypatch, format="slack")
    write_models(sqlite_project, FAILING)
    webhook.statuses[:] = [503, 200]  # one refusal, then accepted
    code, _, err = invoke(capsys, "run")
    assert code == 1 and len(webhook.posts) == 2 and "alert not sent" not in err
    webhook.statuses[:] = [500, 500, 500]
    code, out, err = invoke(capsys, "run", "--full-refresh")
    assert code == 1 and len(webhook.posts) == 5
    [warning] = [line for line in err.splitlines() if "alert not sent" in line]
    assert "HTTP Error 500" in warning and "after 3 attempts" in warning, warning
    assert "s3cretWebhookToken" not in out + err and "qu3rySecret" not in out + err
    webhook.statuses[:] = [404]  # a deleted webhook: another try cannot help
    code, _, err = invoke(capsys, "run", "--full-refresh")
    assert code == 1 and len(webhook.posts) == 6 and "after 1 attempts (HTTPError" in err


def test_the_settings_repr_hides_the_webhook_and_the_smtp_password(
    sqlite_project: Path, monkeypatch
) -> None:
    hook_to(sqlite_project, closed_port_url(), monkeypatch)
    settings = load_settings()
    assert settings.notify.webhook_url and "s3cretWebhookToken" not in repr(settings)
    set_notify(
        sqlite_project,
        smtp={"host": "h", "from": "a@x.org", "to": "b@x.org, c@x.org", "password": "pw-Zq9"},
    )
    settings = load_settings()
    assert settings.notify.smtp.to == ["b@x.org", "c@x.org"] and "pw-Zq9" not in repr(settings)


def test_an_alert_is_e_mailed_through_smtp_with_its_login(
    sqlite_project: Path, mailbox: Mailbox, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("PIPELINE_SMTP_PASSWORD", SMTP_PASSWORD)
    smtp = {
        "host": mailbox.host,
        "port": mailbox.port,
        "from": "pipeline@example.org",
        "to": ["oncall@example.org"],
        "password": "${PIPELINE_SMTP_PASSWORD}",
        "starttls": False,
    }
    set_notify(sqlite_project, smtp=smtp, dashboard_url=DASHBOARD)
    write_models(sqlite_project, FAILING)
    code, out, err = invoke(capsys, "run")
    run_id = run_id_of(err)
    assert code == 1
    [message] = mailbox.messages
    assert run_id in message["Subject"] and message["To"] == "oncall@example.org"
    text = message.get_payload(decode=True).decode()
    assert "load: ValueError: the feed is empty today" in text
    assert f"run-detail?run={run_id}" in text
    assert mailbox.logins == [(b"pipeline@example.org", SMTP_PASSWORD.encode())]
    monkeypatch.setenv("PIPELINE_SMTP_PASSWORD", "wrong-" + SMTP_PASSWORD)
    code, out, err = invoke(capsys, "run", "--full-refresh")
    [warning] = [line for line in err.splitlines() if "alert not sent" in line]
    assert f"e-mail through {mailbox.host}:{mailbox.port} after 1 attempts" in warning
    assert code == 1 and SMTP_PASSWORD not in out + err and len(mailbox.messages) == 1


def test_a_failed_error_check_fires_in_a_run(
    migrated: Settings, webhook: Webhook, monkeypatch
) -> None:
    hook_to(migrated.root, webhook.url, monkeypatch, format="json")
    settings = load_settings(migrated.root / "settings.yml")
    write_models(migrated.root, CHECKED.replace("MIN", "1"))
    assert run(settings).status == "success" and webhook.posts == []
    write_models(migrated.root, CHECKED.replace("MIN", "5"))
    report = run(settings, full_refresh=True)
    [body] = webhook.bodies
    assert body["run_id"] == report.run_id
    assert body["events"] == ["failed", "check_failed"]
    assert body["failed_checks"] == [
        {"task": "report", "check": "row_count(min=5)", "failing_rows": 1}
    ]


def test_the_test_command_fires_for_a_failed_error_check(
    sqlite_project: Path, webhook: Webhook, capsys, monkeypatch
) -> None:
    hook_to(sqlite_project, webhook.url, monkeypatch, format="json")
    write_models(sqlite_project, CHECKED.replace("MIN", "1"))
    assert invoke(capsys, "run")[0] == 0 and webhook.posts == []
    write_models(sqlite_project, CHECKED.replace("MIN", "5"))
    code, out, _ = invoke(capsys, "test")
    assert code == 1
    [body] = webhook.bodies
    assert body["events"] == ["check_failed"] and body["run_id"] in out
    assert body["failed_checks"][0]["check"] == "row_count(min=5)"


def test_a_crashed_run_found_by_the_next_one_and_a_recovery_each_fire(
    sqlite_project: Path, webhook: Webhook, capsys, monkeypatch
) -> None:
    hook_to(sqlite_project, webhook.url, monkeypatch, format="json")
    write_models(sqlite_project, FIXED)
    dead = "20260101T000000-deadbeef"  # a run whose process was killed mid-task
    engine = make_engine(load_settings().database_url)
    try:
        row = {"id": dead, "status": "running", "host": "h", "pid": 1, "tasks_total": 2}
        Ledger(engine).open_run({**row, "started_at": _now(), "heartbeat_at": _now()}, _now())
        with engine.begin() as conn:
            attempt = {"run_id": dead, "task": "load", "status": "running", "started_at": _now()}
            conn.execute(TASKS.insert(), [attempt])
    finally:
        engine.dispose()
    code, _, err = invoke(capsys, "run")
    assert code == 0
    crashed, recovered = webhook.bodies
    assert (crashed["run_id"], crashed["events"]) == (dead, ["crashed"])
    assert crashed["failed_tasks"] == [{"task": "load", "error": "the run's process died"}]
    assert (recovered["run_id"], recovered["events"]) == (run_id_of(err), ["recovered"])
    assert recovered["previous_run"] == dead
    invoke(capsys, "run")
    assert len(webhook.posts) == 2  # a success after a success says nothing


def test_events_choose_what_fires(
    sqlite_project: Path, webhook: Webhook, capsys, monkeypatch
) -> None:
    hook_to(sqlite_project, webhook.url, monkeypatch, events=["recovered"])
    write_models(sqlite_project, FAILING)
    assert invoke(capsys, "run")[0] == 1 and webhook.posts == []
    write_models(sqlite_project, FIXED)
    assert invoke(capsys, "run")[0] == 0 and len(webhook.posts) == 1


def _now():
    from {{ cookiecutter.package_name }}.system import utcnow

    return utcnow()
