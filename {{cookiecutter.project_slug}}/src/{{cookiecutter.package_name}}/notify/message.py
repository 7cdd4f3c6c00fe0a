"""An alert and its bodies: Slack and Teams webhook JSON, a plain JSON object, an e-mail text."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..status import NotifyEvent

__all__ = ["Alert", "FailedCheck", "FailedTask", "body_for", "email_text"]

# The dashboard's Run detail page, which opens the run named by ``?run=``.
RUN_PAGE = "run-detail"
_HEADLINES = {
    NotifyEvent.FAILED: "has failed",
    NotifyEvent.CRASHED: "was found crashed (its process died)",
    NotifyEvent.RECOVERED: "succeeded after a failed run",
    NotifyEvent.CHECK_FAILED: "has failing error-severity checks",
}


@dataclass(frozen=True)
class FailedTask:
    """A task that failed or crashed, and the first line of its error."""

    task: str
    error: str


@dataclass(frozen=True)
class FailedCheck:
    """An error-severity check that failed: its task (or ``source:<name>``) and what it found."""

    task: str
    check: str
    failing_rows: int


@dataclass(frozen=True)
class Alert:
    """One message: the events a run raised, its failed tasks and checks, a dashboard link."""

    project: str
    run_id: str
    status: str
    events: tuple[NotifyEvent, ...]
    failed_tasks: tuple[FailedTask, ...] = ()
    failed_checks: tuple[FailedCheck, ...] = ()
    dashboard_url: str | None = None
    previous_run: str | None = None  # the failed run a recovery follows

    @property
    def link(self) -> str | None:
        """The run's page on the dashboard, when its base URL is configured."""
        if not self.dashboard_url:
            return None
        return f"{self.dashboard_url.rstrip('/')}/{RUN_PAGE}?run={self.run_id}"

    @property
    def title(self) -> str:
        """``my-project: run 20261203T… failed``."""
        return f"{self.project}: run {self.run_id} {_HEADLINES[self.events[0]]}"

    def lines(self) -> list[str]:
        """The details, one a line: failed tasks with their first error line, failed checks."""
        out = [
            f"{item.task}: {item.error}" if item.error else item.task for item in self.failed_tasks
        ]
        out += [
            f"check {item.check} on {item.task}: {item.failing_rows} failing rows"
            for item in self.failed_checks
        ]
        if self.previous_run:
            out.append(f"previous run: {self.previous_run}")
        return out


def body_for(alert: Alert, fmt: str) -> dict[str, Any]:
    """The JSON a webhook of kind ``fmt`` (``slack``, ``teams`` or ``json``) expects."""
    if fmt == "slack":
        return _slack(alert)
    if fmt == "teams":
        return _teams(alert)
    return _plain(alert)


def email_text(alert: Alert) -> tuple[str, str]:
    """Subject and plain-text body of the alert's e-mail."""
    body = [alert.title, "", *alert.lines()]
    if alert.link:
        body += ["", f"Dashboard: {alert.link}"]
    return alert.title, "\n".join(body) + "\n"


def _plain(alert: Alert) -> dict[str, Any]:
    return {
        "project": alert.project,
        "run_id": alert.run_id,
        "status": alert.status,
        "events": [str(event) for event in alert.events],
        "title": alert.title,
        "failed_tasks": [asdict(item) for item in alert.failed_tasks],
        "failed_checks": [asdict(item) for item in alert.failed_checks],
        "previous_run": alert.previous_run,
        "link": alert.link,
    }


def _slack(alert: Alert) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` for notifications, blocks for the channel."""
    details = "\n".join(f"• `{line}`" for line in alert.lines())
    text = f"*{alert.title}*" + (f"\n{details}" if details else "")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if alert.link:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{alert.link}|Open the run>"}],
            }
        )
    return {"text": alert.title, "blocks": blocks}


def _teams(alert: Alert) -> dict[str, Any]:
    """A Teams workflow webhook message: one Adaptive Card."""
    colour = "Good" if alert.events[0] == NotifyEvent.RECOVERED else "Attention"
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": alert.title,
            "weight": "Bolder",
            "wrap": True,
            "color": colour,
        }
    ]
    body += [{"type": "TextBlock", "text": line, "wrap": True} for line in alert.lines()]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "msteams": {"width": "Full"},
    }
    if alert.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the run", "url": alert.link}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }
