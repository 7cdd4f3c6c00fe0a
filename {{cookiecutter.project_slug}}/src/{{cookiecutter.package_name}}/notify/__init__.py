"""Run alerts: an ``Alert`` (what happened to which run) sent to a webhook and/or by e-mail.

The engine builds the alerts when a run ends (``core/alerts.py``) and hands them to
``deliver``, which retries briefly, never raises and never changes the run's outcome.
"""

from __future__ import annotations

from .message import Alert, FailedCheck, FailedTask, body_for, email_text
from .send import deliver, redact_url

__all__ = [
    "Alert",
    "FailedCheck",
    "FailedTask",
    "body_for",
    "deliver",
    "email_text",
    "redact_url",
]
