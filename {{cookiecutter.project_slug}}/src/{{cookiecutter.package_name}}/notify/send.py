"""Sending alerts: a JSON POST to the webhook and an e-mail over SMTP, each retried briefly.

Alerts are a side channel: a send that still fails after its attempts logs one warning line
and the run goes on with its own outcome. The webhook's path and query (where Slack and Teams
keep the secret) and the SMTP password never reach a message: they are replaced by ``***``.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from functools import partial
from urllib.parse import urlsplit

from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from ..notify_settings import NotifySettings, SmtpSettings
from .message import Alert, body_for, email_text

__all__ = ["deliver", "post_webhook", "redact_url", "send_email"]

log = logging.getLogger("pipeline.notify")
_HIDDEN = "***"
# Refusals that another try cannot change: a wrong login, refused addresses.
_PERMANENT_SMTP = (
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPNotSupportedError,
)


def deliver(config: NotifySettings, alerts: Sequence[Alert]) -> None:
    """Send each alert to the webhook and by e-mail; never raises, never blocks for long."""
    secrets = _secrets(config)
    for alert in alerts:
        if config.webhook_url:
            url = config.webhook_url
            body = body_for(alert, config.format)
            where = f"webhook {redact_url(url)}"
            _attempt(config, where, secrets, partial(post_webhook, url, body, config.timeout))
        if config.smtp is not None:
            smtp = config.smtp
            where = f"e-mail through {smtp.host}:{smtp.port}"
            _attempt(config, where, secrets, partial(send_email, smtp, alert, config.timeout))


def post_webhook(url: str, body: dict[str, object], timeout: float) -> None:
    """POST ``body`` as JSON; an HTTP error status raises."""
    data = json.dumps(body).encode("utf-8")
    # http(s) only: NotifySettings refuses any other scheme.
    request = urllib.request.Request(  # noqa: S310
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        response.read()


def send_email(smtp: SmtpSettings, alert: Alert, timeout: float) -> None:
    """The alert as a plain-text e-mail, with STARTTLS and a login when configured."""
    subject, text = email_text(alert)
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, smtp.sender, ", ".join(smtp.to)
    message.set_content(text)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as server:
        if smtp.starttls:
            server.starttls(context=ssl.create_default_context())
        if smtp.password:
            server.login(smtp.user or smtp.sender, smtp.password)
        server.send_message(message)


def redact_url(url: str) -> str:
    """``https://hooks.slack.com/***``: the scheme and host only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return _HIDDEN
    if not parts.scheme or not host:
        return _HIDDEN
    return f"{parts.scheme}://{host}{port}/{_HIDDEN}"


def _attempt(
    config: NotifySettings, where: str, secrets: list[str], send: Callable[[], None]
) -> None:
    """``send`` with retries and backoff; on final failure one warning line, secrets hidden."""
    retrying = Retrying(
        stop=stop_after_attempt(config.attempts) | stop_after_delay(2 * config.timeout),
        wait=wait_exponential(multiplier=0.5, max=4),
        retry=retry_if_exception(_transient),
        reraise=True,
    )
    try:
        retrying(send)
    except Exception as exc:  # an alert must never end the run: every failure becomes a line
        said = " ".join(f"{type(exc).__name__}: {exc}".split())
        tries = retrying.statistics.get("attempt_number", config.attempts)
        log.warning(_scrub(f"alert not sent to {where} after {tries} attempts ({said})", secrets))


def _transient(exc: BaseException) -> bool:
    """Worth another try: the network, a timeout, a 5xx or 429; not a 4xx or a wrong login."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500 or exc.code == 429
    return not isinstance(exc, (*_PERMANENT_SMTP, ValueError))


def _secrets(config: NotifySettings) -> list[str]:
    """The strings no output may show: the webhook URL and its path and query, the password."""
    found = []
    if config.webhook_url:
        url = config.webhook_url
        parts = urlsplit(url)
        found += [url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.query]
    if config.smtp is not None and config.smtp.password:
        found.append(config.smtp.password)
    return sorted({secret for secret in found if len(secret) > 1}, key=len, reverse=True)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, _HIDDEN)
    return text
