"""Every Genesys and media request goes through the configured forward proxy."""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from callarchive.genesys import (
    GenesysUnavailableError,
    ProxyError,
    ProxySettings,
    TlsSettings,
    connect,
)
from tests.emulator.harness import RunningEmulator
from tests.genesys.conftest import BASE, EmulatorClock, EmulatorFactory, settings_for
from tests.genesys.proxy import RunningProxy, tinyproxy
from tests.genesys.test_client import BytesSink, with_recordings

INTERVAL = (
    dt.datetime.combine(BASE.start, dt.time(9), dt.UTC),  # type: ignore[arg-type]
    dt.datetime.combine(BASE.start, dt.time(10), dt.UTC),  # type: ignore[arg-type]
)


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[RunningProxy]:
    with tinyproxy(tmp_path) as running:
        yield running


def through(proxy: RunningProxy, password: str | None = None) -> ProxySettings:
    return ProxySettings(
        address=proxy.host,
        port=proxy.port,
        username=proxy.username,
        password=proxy.password if password is None else password,
    )


async def test_api_login_and_media_requests_all_go_through_the_proxy(
    emulator: RunningEmulator, proxy: RunningProxy
) -> None:
    conversation = with_recordings(
        emulator.ground_truth(
            formats="WAV", **{"from": f"{BASE.start}T08:00:00Z", "to": f"{BASE.start}T14:00:00Z"}
        )
    )
    settings = settings_for(emulator, proxy=through(proxy))
    async with connect(settings, clock=EmulatorClock(emulator)) as client:
        [_ async for _ in client.query_conversations(*INTERVAL)]
        sink = BytesSink()
        download = await client.download_recording(
            conversation["conversation_id"],
            conversation["recordings"][0]["recording_id"],
            format_id="WAV",
            sink=sink,
        )
    assert download.size == len(sink.data)
    assert (
        hashlib.sha256(sink.data).hexdigest()
        == (conversation["recordings"][0]["formats"]["WAV"]["sha256"])
    )
    seen = "\n".join(proxy.requests())
    assert "POST http://127.0.0.1" in seen
    assert "/oauth/token" in seen
    assert "/api/v2/analytics/conversations/details/query" in seen
    assert "/api/v2/conversations/" in seen
    assert "GET http://127.0.0.1" in seen
    assert "/media/" in seen


async def test_wrong_proxy_password_fails_clearly(
    emulator: RunningEmulator, proxy: RunningProxy
) -> None:
    settings = settings_for(emulator, proxy=through(proxy, password="wrong-password"))
    async with connect(settings, clock=EmulatorClock(emulator)) as client:
        # tinyproxy answers 401 and closes the connection while the request body is still in
        # flight: the client sees either that answer or a dropped connection.
        with pytest.raises((ProxyError, GenesysUnavailableError), match="proxy") as raised:
            [_ async for _ in client.query_conversations(*INTERVAL)]
    assert "username and password" in str(raised.value)
    assert "wrong-password" not in str(raised.value)
    assert emulator.stats()["tokens_issued"] == 0


async def test_https_is_tunnelled_through_the_proxy(
    make_emulator: EmulatorFactory, proxy: RunningProxy, tmp_path: Path
) -> None:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    server.private_key_and_cert_chain_pem.write_to_path(tmp_path / "server.pem")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    emulator = make_emulator(
        uvicorn_options={"ssl_certfile": str(tmp_path / "server.pem")},
        verify=ssl.create_default_context(cafile=tmp_path / "ca.pem"),
    )
    settings = settings_for(
        emulator, proxy=through(proxy), tls=TlsSettings(trust_list=str(tmp_path / "ca.pem"))
    )
    async with connect(settings, clock=EmulatorClock(emulator)) as client:
        users = await client.users([u["id"] for u in emulator.ground_truth()["users"]][:3])
    assert len(users) == 3
    assert any("CONNECT 127.0.0.1" in line for line in proxy.requests())
