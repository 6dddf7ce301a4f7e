"""Runs the emulator under a real uvicorn server on loopback, for the tests.

The listening socket is bound and listening before the server thread starts, so clients can
connect at once: the kernel queues connections until the server accepts them (no waiting loop).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import uvicorn
from referencing import Registry, Resource

from genesys_emulator import EmulatorConfig, create_app

# The official Genesys model schemas live in the project's shared folder, beside the repository.
SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "genesys" / "schemas.json"


@dataclasses.dataclass
class RunningEmulator:
    """A live emulator and helpers to talk to it."""

    base_url: str
    config: EmulatorConfig
    # What the harness's own requests trust (a CA file when the emulator serves HTTPS).
    verify: Any = True

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("verify", self.verify)
        return httpx.Client(base_url=self.base_url, timeout=30, **kwargs)

    def token(self, client_id: str | None = None, secret: str | None = None) -> str:
        response = self.login(client_id, secret)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def login(self, client_id: str | None = None, secret: str | None = None) -> httpx.Response:
        pair = f"{client_id or self.config.client_id}:{secret or self.config.client_secret}"
        basic = base64.b64encode(pair.encode()).decode()
        with self.client() as http:
            return http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}"},
            )

    def api(self, token: str | None = None) -> httpx.Client:
        """A client that sends a bearer token on every request."""
        return self.client(headers={"Authorization": f"Bearer {token or self.token()}"})

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        with self.client() as http:
            response = http.request(method, f"/_emulator/{path}", **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def now(self) -> dt.datetime:
        text = self.control("GET", "clock")["now"]
        return dt.datetime.fromisoformat(text)

    def advance(self, seconds: float) -> dt.datetime:
        return dt.datetime.fromisoformat(
            self.control("POST", "clock", json={"advance_s": seconds})["now"]
        )

    def ground_truth(self, **params: str) -> dict[str, Any]:
        params.setdefault("formats", "none")
        return dict(self.control("GET", "ground-truth", params=params))

    def stats(self) -> dict[str, Any]:
        return dict(self.control("GET", "stats"))


@contextmanager
def serve(
    config: EmulatorConfig, *, verify: Any = True, **uvicorn_options: Any
) -> Iterator[RunningEmulator]:
    """Serve `config` on a free loopback port for the duration of the block."""
    # IPPROTO_TCP explicitly: asyncio then sets TCP_NODELAY (no delayed-ACK stalls per response).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    uvicorn_options.setdefault("date_header", False)  # the emulator's clock dates every answer
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), log_level="warning", **uvicorn_options)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    scheme = "https" if uvicorn_options.get("ssl_certfile") else "http"
    try:
        yield RunningEmulator(base_url=f"{scheme}://127.0.0.1:{port}", config=config, verify=verify)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        logging.getLogger("uvicorn.error").handlers.clear()


@cache
def _registry() -> tuple[dict[str, Any], Registry]:
    if not SCHEMAS.is_file():
        raise FileNotFoundError(
            f"{SCHEMAS} is missing: the suite validates responses against the official Genesys "
            "models kept in shared/genesys/ beside the repository"
        )
    document = json.loads(SCHEMAS.read_text())
    resource = Resource.from_contents(document)
    return document, Registry().with_resource("urn:genesys", resource)


def assert_valid(instance: Any, model: str) -> None:
    """Fail unless `instance` validates against the official model `model` (no extra fields)."""
    document, registry = _registry()
    schema = {"$schema": document["$schema"], "$ref": f"urn:genesys#/$defs/{model}"}
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{model}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
    )


def recorded_conversation(truth: dict[str, Any], recordings: int = 1) -> dict[str, Any]:
    """The first conversation of a ground-truth document with exactly `recordings` recordings."""
    return next(c for c in truth["conversations"] if len(c["recordings"]) == recordings)


def conversation_truth(
    emulator: RunningEmulator, conversation: dict[str, Any], formats: str
) -> dict[str, Any]:
    """`conversation` from the ground truth again, with its media's sha256 in `formats`.

    Asks for the one millisecond in which the conversation started, so only its media is encoded.
    """
    start = dt.datetime.fromisoformat(conversation["start"])
    window = {"from": start.isoformat(), "to": (start + dt.timedelta(milliseconds=1)).isoformat()}
    document = emulator.ground_truth(formats=formats, **window)
    wanted = conversation["conversation_id"]
    return next(c for c in document["conversations"] if c["conversation_id"] == wanted)


def inject_call(emulator: RunningEmulator, *, ended_s_ago: float, duration_s: float = 5) -> Any:
    """Inject a recorded call that ended `ended_s_ago` seconds ago; the control API's answer."""
    start = emulator.now() - dt.timedelta(seconds=ended_s_ago + duration_s)
    return emulator.control(
        "POST", "calls", json={"start": start.isoformat(), "duration_s": duration_s}
    )
