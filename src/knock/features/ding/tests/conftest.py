"""The edge of the world for DING tests: a real SMTP server (aiosmtpd) that keeps what it
receives, and a real HTTP gateway on 127.0.0.1 that records its calls. Both run in threads
of their own, so they answer whatever the test's event loop is doing (and to server
processes the tests start)."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """Every message the SMTP server accepted: (envelope recipients, parsed message)."""

    port: int
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        with self.lock:
            return list(self.received)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class GatewayCall:
    headers: dict[str, str]
    body: dict[str, Any]


class Gateway:
    """An SMS/phone gateway stand-in: answers ``status`` (settable) and records calls."""

    def __init__(self) -> None:
        self.calls: list[GatewayCall] = []
        self.status = 200
        self.lock = threading.Lock()
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                with gateway.lock:
                    gateway.calls.append(GatewayCall(dict(self.headers.items()), body))
                    status = gateway.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            # Every claimed step is sent at once: more than the default backlog of 5.
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ding"

    def recorded(self) -> list[GatewayCall]:
        with self.lock:
            return list(self.calls)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    receiver = Gateway()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(10)
