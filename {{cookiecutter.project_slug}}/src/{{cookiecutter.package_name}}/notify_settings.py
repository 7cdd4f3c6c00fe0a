"""settings.yml's ``notify:`` block: where run alerts go and which events send them.

    notify:
      webhook_url: ${PIPELINE_WEBHOOK_URL:-}
      format: slack            # slack | teams | json
      events: [failed, crashed, recovered, check_failed]
      dashboard_url: http://127.0.0.1:8501
      smtp: {host: smtp.example.com, port: 587, from: pipeline@example.com,
             to: [data-team@example.com], password: "${PIPELINE_SMTP_PASSWORD}"}

An empty ``webhook_url`` and no ``smtp`` block send nothing. The webhook URL and the SMTP
password are secrets: they are kept out of the settings' repr and out of every message.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .status import NotifyEvent

__all__ = ["NotifySettings", "SmtpSettings"]


class SmtpSettings(BaseModel):
    """An SMTP server to e-mail alerts through (STARTTLS unless told otherwise)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(alias="from", description="The From address.")
    to: list[str] = Field(min_length=1, description="Recipients.")
    user: str | None = Field(default=None, description="Login name (default: the From address).")
    password: str | None = Field(default=None, repr=False, description="Read it from the env.")
    starttls: bool = True

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        """``to: a@x.org`` or ``to: "a@x.org, b@x.org"`` as well as a list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class NotifySettings(BaseModel):
    """Run alerts: a webhook (Slack, Teams or plain JSON) and/or e-mail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    webhook_url: str | None = Field(
        default=None, repr=False, description="Webhook to POST to; empty sends nothing."
    )
    format: Literal["slack", "teams", "json"] = Field(
        default="slack", description="Body of the POST: Slack, Teams (Adaptive Card) or JSON."
    )
    events: list[NotifyEvent] = Field(
        default_factory=lambda: list(NotifyEvent), description="Which events send an alert."
    )
    dashboard_url: str | None = Field(
        default=None, description="The dashboard's base URL, for a link to the run."
    )
    smtp: SmtpSettings | None = None
    timeout: float = Field(default=5.0, gt=0, le=60, description="Seconds per attempt.")
    attempts: int = Field(default=3, ge=1, le=10, description="Tries before giving up.")

    @field_validator("webhook_url", "dashboard_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """``${PIPELINE_WEBHOOK_URL:-}`` left empty means no webhook."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        """Only http(s): urllib would open a ``file:`` URL too (the value, a secret, unshown)."""
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @property
    def enabled(self) -> bool:
        """Whether any alert can be sent at all."""
        return bool(self.events) and (self.webhook_url is not None or self.smtp is not None)
