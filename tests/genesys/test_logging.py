"""Logs never carry a client secret, a token or a signed URL's query string."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from callarchive import logs
from callarchive.genesys import AuthenticationError, connect
from tests.emulator.harness import RunningEmulator
from tests.genesys.conftest import BASE, EmulatorClock, EmulatorFactory, settings_for
from tests.genesys.test_client import BytesSink

START = dt.datetime.combine(BASE.start, dt.time(9), dt.UTC)  # type: ignore[arg-type]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    logs.configure(level=logging.DEBUG, stream=stream)
    yield stream
    structlog.reset_defaults()


@pytest.mark.parametrize(
    ("event", "secret"),
    [
        ({"headers": {"Authorization": "Bearer abc.def.ghi"}}, "abc.def.ghi"),
        ({"client_secret": "s3cr3t-value"}, "s3cr3t-value"),
        ({"proxy_password": "pr0xy"}, "pr0xy"),
        ({"access_token": "tok-123"}, "tok-123"),
        ({"detail": "sent Authorization: Bearer tok-456 to the API"}, "tok-456"),
        ({"detail": "Basic YWxpY2U6czNjcmV0"}, "YWxpY2U6czNjcmV0"),
        ({"url": "https://media.example/x.wav?Expires=1&Signature=deadbeef"}, "deadbeef"),
        ({"urls": ["https://s3.example/a?X-Amz-Signature=cafe01"]}, "cafe01"),
        ({"error": ValueError("GET https://m.example/f?Signature=0badf00d failed")}, "0badf00d"),
    ],
)
def test_redaction_masks(captured: io.StringIO, event: dict[str, object], secret: str) -> None:
    structlog.get_logger("test").info("something_happened", **event)
    line = captured.getvalue()
    assert "something_happened" in line
    assert secret not in line
    assert logs.REDACTED in line


async def test_a_whole_session_logs_no_secret_token_or_signature(
    make_emulator: EmulatorFactory, captured: io.StringIO
) -> None:
    emulator: RunningEmulator = make_emulator(faults="server-errors:0.2,token-revocation:0.05")
    conversation = next(
        c
        for c in emulator.ground_truth(**{"from": START.isoformat()})["conversations"]
        if c["recordings"] and c["ended"]
    )
    tokens = []
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as client:
        [_ async for _ in client.query_conversations(START, START + dt.timedelta(hours=2))]
        reply = await client.recordings(conversation["conversation_id"], format_id="WAV")
        url = reply.recordings[0].media_uri()
        assert url is not None
        await client.download(url, BytesSink())
        tokens.append((await client.tokens.token()).value)
    bad = settings_for(emulator, client_secret="wrong-secret-4242")
    async with connect(bad, clock=EmulatorClock(emulator)) as client:
        with pytest.raises(AuthenticationError) as raised:
            await client.user("someone")
        structlog.get_logger("test").error("run_failed", error=raised.value)
    output = captured.getvalue()
    assert [json.loads(line) for line in output.splitlines()]  # JSON lines, and some of them
    for secret in [emulator.config.client_secret, "wrong-secret-4242", *tokens]:
        assert secret not in output
    assert "Signature=" not in output
    assert "Expires=" not in output
