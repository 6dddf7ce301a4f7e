"""Client credentials: the token is cached encrypted, reused, renewed ahead of expiry and on 401."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from cryptography.fernet import Fernet

from callarchive.clock import FakeClock
from callarchive.errors import FatalError
from callarchive.genesys import (
    AuthenticationError,
    EncryptedTokenVault,
    GenesysUnavailableError,
    connect,
)
from tests.emulator.harness import RunningEmulator
from tests.genesys.conftest import (
    BASE,
    EmulatorClock,
    EmulatorFactory,
    MemoryBlobs,
    settings_for,
)

TOKEN_KEY = "cdrimport/GenesysCloud/work/p1_s1/token"
INTERVAL = (
    dt.datetime.combine(BASE.start, dt.time(), dt.UTC),  # type: ignore[arg-type]
    dt.datetime.combine(BASE.start, dt.time(1), dt.UTC),  # type: ignore[arg-type]
)


async def query_once(emulator: RunningEmulator, vault: EncryptedTokenVault | None = None) -> None:
    async with connect(
        settings_for(emulator), clock=EmulatorClock(emulator), vault=vault
    ) as client:
        [_ async for _ in client.query_conversations(*INTERVAL)]


async def test_token_is_stored_encrypted_and_reused_by_the_next_run(
    emulator: RunningEmulator,
) -> None:
    blobs, key = MemoryBlobs(), Fernet.generate_key()
    await query_once(emulator, EncryptedTokenVault(blobs, TOKEN_KEY, Fernet(key)))
    await query_once(emulator, EncryptedTokenVault(blobs, TOKEN_KEY, Fernet(key)))
    assert emulator.stats()["tokens_issued"] == 1
    stored = blobs.blobs[TOKEN_KEY]
    assert b"access_token" not in stored
    assert emulator.config.client_secret.encode() not in stored
    assert b"value" in Fernet(key).decrypt(stored)


async def test_unreadable_cache_is_ignored_and_replaced(emulator: RunningEmulator) -> None:
    blobs = MemoryBlobs()
    blobs.blobs[TOKEN_KEY] = b"written with another key"
    await query_once(emulator, EncryptedTokenVault(blobs, TOKEN_KEY, Fernet(Fernet.generate_key())))
    assert emulator.stats()["tokens_issued"] == 1
    assert blobs.blobs[TOKEN_KEY] != b"written with another key"


async def test_concurrent_requests_share_one_token_fetch(emulator: RunningEmulator) -> None:
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as client:
        users = emulator.ground_truth()["users"]
        await asyncio.gather(*(client.user(u["id"]) for u in users))
        assert client.tokens.fetched == 1
    assert emulator.stats()["tokens_issued"] == 1


async def test_token_is_renewed_ahead_of_its_expiry(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(token_ttl_s=600)
    clock = FakeClock(dt.datetime.now(dt.UTC))
    async with connect(settings_for(emulator), clock=clock) as client:
        [_ async for _ in client.query_conversations(*INTERVAL)]
        clock.advance(550)  # inside the renewal margin (a tenth of the lifetime)
        [_ async for _ in client.query_conversations(*INTERVAL)]
        assert client.tokens.fetched == 2
    stats = emulator.stats()
    assert not [r for r in stats["requests"] if r["status"] == 401]


async def test_expired_token_is_renewed_once_on_401(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(token_ttl_s=600)
    clock = FakeClock(dt.datetime.now(dt.UTC))  # the client does not see the emulator's time
    async with connect(settings_for(emulator), clock=clock) as client:
        [_ async for _ in client.query_conversations(*INTERVAL)]
        emulator.advance(601)
        [_ async for _ in client.query_conversations(*INTERVAL)]
        assert client.tokens.fetched == 2
    statuses = [r["status"] for r in emulator.stats()["requests"] if "query" in r["endpoint"]]
    assert 401 in statuses


async def test_tokens_revoked_mid_run_are_replaced(emulator: RunningEmulator) -> None:
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as client:
        users = emulator.ground_truth()["users"]
        await client.user(users[0]["id"])
        emulator.control("POST", "faults", json={"revoke_tokens": True})
        await client.user(users[1]["id"])
        assert client.tokens.fetched == 2


async def test_a_client_whose_every_new_token_is_rejected_fails_after_three_renewals(
    make_emulator: EmulatorFactory,
) -> None:
    emulator = make_emulator(faults="token-revocation:1.0")
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as client:
        with pytest.raises(AuthenticationError, match="even after renewing"):
            await client.user(emulator.ground_truth()["users"][0]["id"])
        assert client.tokens.fetched == 4  # the first token and three renewals


async def test_wrong_secret_is_an_authentication_error_without_the_secret(
    emulator: RunningEmulator,
) -> None:
    settings = settings_for(emulator, client_secret="not-the-secret-9f8e7d")
    async with connect(settings, clock=EmulatorClock(emulator)) as client:
        with pytest.raises(AuthenticationError) as raised:
            await client.user("x")
    message = str(raised.value)
    assert "invalid_client" in message
    assert "Client Secret" in message
    assert "not-the-secret-9f8e7d" not in message
    assert isinstance(raised.value, FatalError)


async def test_unreachable_authentication_url_is_retryable(emulator: RunningEmulator) -> None:
    settings = settings_for(emulator, auth_url="http://127.0.0.1:9")
    clock = FakeClock()
    async with connect(settings, clock=clock) as client:
        with pytest.raises(GenesysUnavailableError, match="Authentication URL"):
            await client.user("x")
    assert len(clock.slept) >= 3  # it backed off and retried before giving up
