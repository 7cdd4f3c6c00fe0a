"""Real receivers for run alerts: an HTTP webhook server and an SMTP server, each in a thread."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

# Where Slack keeps a webhook's secret: its path (and some services a query token).
SECRET_PATH = "/services/T0001/B0002/s3cretWebhookToken"
SECRET_QUERY = "sig=qu3rySecret"
SMTP_PASSWORD = "sm7p-Pa55word"


@dataclass
class Webhook:
    """A local webhook: every POST's path and JSON body, answered with ``statuses`` in turn."""

    server: ThreadingHTTPServer
    statuses: list[int] = field(default_factory=list)
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{SECRET_PATH}?{SECRET_QUERY}"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [body for _, body in self.posts]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A webhook server on a free local port, answering 200 unless told otherwise."""
    hook: Webhook

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", 0))
            hook.posts.append((self.path, json.loads(self.rfile.read(size))))
            status = hook.statuses.pop(0) if hook.statuses else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass  # quiet: the test reads the posts

    hook = Webhook(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def closed_port_url() -> str:
    """A webhook URL (secret and all) on a local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{SECRET_PATH}?{SECRET_QUERY}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A webhook URL on a local port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        yield f"http://127.0.0.1:{port}{SECRET_PATH}?{SECRET_QUERY}"


@dataclass
class Mailbox:
    """What a local SMTP server received, and the logins it saw."""

    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """An aiosmtpd server on a free local port that accepts ``SMTP_PASSWORD`` for any login."""
    monkeypatch.setattr(logging.getLogger("mail.log"), "disabled", True)  # its thread's chatter
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox("127.0.0.1", 0)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        if isinstance(data, LoginPassword):
            box.logins.append((data.login, data.password))
            return AuthResult(success=data.password == SMTP_PASSWORD.encode(), handled=False)
        return AuthResult(success=False, handled=False)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(
        Handler(),
        hostname=box.host,
        port=box.port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield box
    controller.stop()


def set_notify(root: Path, **block: object) -> None:
    """Replace the ``notify:`` block of the project's settings.yml."""
    path = root / "settings.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["notify"] = block
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
