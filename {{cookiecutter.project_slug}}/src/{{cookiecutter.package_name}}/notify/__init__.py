"""Run alerts: an ``Alert`` (what happened to which run) sent to a webhook and/or by e-mail.

The engine builds the alerts when a run ends (``core/alerts.py``) and hands them to
``send.deliver``, which retries briefly, never raises and never changes the run's outcome. It is
imported only when an alert goes out: its HTTP, SMTP and TLS modules are no start-up cost of a
project that sends none.
"""

from __future__ import annotations

from .message import Alert, FailedCheck, FailedTask, body_for, email_text

__all__ = ["Alert", "FailedCheck", "FailedTask", "body_for", "email_text"]
