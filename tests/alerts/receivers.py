"""Real receivers on loopback for the delivery tests: an SMTP server (aiosmtpd) with STARTTLS
and authentication, syslog listeners over UDP and TCP, and a webhook (Starlette under uvicorn).
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import trustme
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

USER, PASSWORD = "alerts", "mail-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        del server, session
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        self.arrived.set()
        return "250 Message accepted for delivery"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    del server, session, envelope, mechanism
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclasses.dataclass
class SmtpServer:
    port: int
    ca_file: str
    mailbox: _Mailbox


@contextmanager
def smtp_server(folder: Path) -> Iterator[SmtpServer]:
    """An SMTP server that requires STARTTLS before AUTH, with a test CA."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca_file = folder / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield SmtpServer(port=port, ca_file=str(ca_file), mailbox=mailbox)
    finally:
        controller.stop()


@dataclasses.dataclass
class SyslogListener:
    url: str
    received: list[bytes]
    arrived: threading.Event


@contextmanager
def syslog_listener(transport: str) -> Iterator[SyslogListener]:
    """A syslog receiver: UDP datagrams, or TCP frames with octet counting (RFC 6587)."""
    received: list[bytes] = []
    arrived = threading.Event()

    class Udp(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            received.append(self.request[0])
            arrived.set()

    class Tcp(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            while header := self._until_space():
                received.append(self.rfile.read(int(header)))
                arrived.set()

        def _until_space(self) -> bytes:
            length = b""
            while (char := self.rfile.read(1)) not in (b" ", b""):
                length += char
            return length

    server: socketserver.BaseServer
    if transport == "udp":
        server = socketserver.UDPServer(("127.0.0.1", 0), Udp)
    else:
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tcp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]  # type: ignore[index]
        yield SyslogListener(
            url=f"{transport}://127.0.0.1:{port}", received=received, arrived=arrived
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclasses.dataclass
class Webhook:
    url: str
    received: list[dict[str, Any]]
    failures_left: list[int]


@contextmanager
def webhook(*, failures: int = 0, status: int = 503) -> Iterator[Webhook]:
    """A webhook that answers `status` to the first `failures` POSTs, then 204."""
    received: list[dict[str, Any]] = []
    left = [failures]

    async def hook(request: Request) -> JSONResponse:
        received.append(await request.json())
        if left[0] > 0:
            left[0] -= 1
            return JSONResponse({"error": "try later"}, status_code=status)
        return JSONResponse({}, status_code=204)

    app = Starlette(routes=[Route("/hooks/alerts", hook, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        port = sock.getsockname()[1]
        yield Webhook(
            url=f"http://127.0.0.1:{port}/hooks/alerts", received=received, failures_left=left
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


async def wait_for(event: threading.Event) -> None:
    """Until a receiver has something (bounded: a lost alert fails the test)."""
    assert await asyncio.to_thread(event.wait, 10.0), "nothing arrived"
