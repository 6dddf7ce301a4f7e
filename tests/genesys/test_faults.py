"""Every fault profile of the emulator: the client recovers, or fails the way the caller expects."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest

from callarchive.genesys import GenesysClient, MediaNotReadyError, ServerError, connect
from tests.emulator.harness import RunningEmulator
from tests.genesys.conftest import BASE, EmulatorClock, EmulatorFactory, settings_for
from tests.genesys.test_client import BytesSink

START = dt.datetime.combine(BASE.start, dt.time(9), dt.UTC)  # type: ignore[arg-type]
END = START + dt.timedelta(hours=2)
WINDOW = {"from": START.isoformat(), "to": END.isoformat()}


async def archive_window(client: GenesysClient) -> tuple[dict[str, str], set[str]]:
    """What an import of the window would store (recording id → sha256 of its WAV media),
    and the recordings whose media was not ready (they would wait in the retry buffer)."""
    stored: dict[str, str] = {}
    not_ready: set[str] = set()
    async for conversation in client.query_conversations(START, END, page_size=5):
        if not START <= conversation.conversation_start < END:
            continue
        for meta in await client.recording_metadata(conversation.conversation_id):
            sink = BytesSink()
            try:
                download = await client.download_recording(
                    conversation.conversation_id, meta.id, format_id="WAV", sink=sink
                )
            except MediaNotReadyError:
                not_ready.add(meta.id)
                continue
            assert download.size == len(sink.data)
            stored[meta.id] = hashlib.sha256(sink.data).hexdigest()
    return stored, not_ready


def expected(emulator: RunningEmulator) -> dict[str, str]:
    truth = emulator.ground_truth(formats="WAV", **WINDOW)
    return {
        r["recording_id"]: r["formats"]["WAV"]["sha256"]
        for c in truth["conversations"]
        if c["voice"] and c["recorded"]
        for r in c["recordings"]
    }


def statuses(emulator: RunningEmulator) -> set[int]:
    return {row["status"] for row in emulator.stats()["requests"]}


@pytest.mark.parametrize(
    ("profile", "evidence"),
    [
        ("rate-limit-burst:0.2", {429}),
        ("server-errors:0.2", {502, 503, 504}),
        ("connection-resets:0.2", None),
        ("slow:0.3", None),
        ("truncated-media:0.3", None),
        ("malformed-json:0.3", None),
        ("token-revocation:0.1", {401}),  # often enough that a renewed token is revoked too
        # Every fault of a healthy service at a mild rate, but a 500, which the client does not
        # retry (test_internal_errors_are_not_retried): the import retries the conversation
        # later (tests/imports/test_fault_profiles.py). Whether one of the window's requests
        # drew a 500 depended on the day's traffic.
        ("chaos,internal-errors:0", None),
    ],
)
async def test_client_recovers_from_fault_profile(
    make_emulator: EmulatorFactory, profile: str, evidence: set[int] | None
) -> None:
    emulator = make_emulator(faults=profile, slow_ms=200)
    want = expected(emulator)
    assert len(want) >= 5
    emulator.control("DELETE", "stats")
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as client:
        stored, not_ready = await archive_window(client)
    assert stored == {k: v for k, v in want.items() if k not in not_ready}
    # Only stuck transcoding (part of chaos) may leave media not ready; nothing is lost.
    assert set(stored) | not_ready == set(want)
    assert not not_ready or profile.startswith("chaos")
    if evidence is not None:  # the fault did show in the statuses the emulator sent
        assert statuses(emulator) & evidence


async def test_truncated_media_is_downloaded_again(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(faults="truncated-media:0.5")
    truth = expected(emulator)
    conversation = next(
        c
        for c in emulator.ground_truth(**WINDOW)["conversations"]
        if c["recordings"] and c["ended"]
    )
    recording_id = conversation["recordings"][0]["recording_id"]
    resets = 0
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as client:
        for _ in range(6):
            sink = BytesSink()
            download = await client.download_recording(
                conversation["conversation_id"], recording_id, format_id="WAV", sink=sink
            )
            assert download.size == len(sink.data)
            assert hashlib.sha256(sink.data).hexdigest() == truth[recording_id]
            resets += sink.resets
    assert resets > 0


async def test_internal_errors_are_not_retried(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(faults="internal-errors:1.0")
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as client:
        with pytest.raises(ServerError) as raised:
            await client.user(emulator.ground_truth()["users"][0]["id"])
    assert raised.value.status == 500
    query_rows = [r for r in emulator.stats()["requests"] if r["endpoint"].startswith("GET /api")]
    assert sum(r["count"] for r in query_rows) == 1


async def test_transcoding_that_never_ends_is_media_not_ready(
    make_emulator: EmulatorFactory,
) -> None:
    emulator = make_emulator(faults="stuck-transcode:1.0")
    conversation = next(
        c
        for c in emulator.ground_truth(**WINDOW)["conversations"]
        if c["recordings"] and c["ended"]
    )
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as client:
        emulator.advance(86_400)
        reply = await client.recordings(
            conversation["conversation_id"], format_id="MP3", max_wait_ms=10
        )
        assert not reply.ready
        with pytest.raises(MediaNotReadyError):
            await client.download_recording(
                conversation["conversation_id"],
                conversation["recordings"][0]["recording_id"],
                format_id="MP3",
                sink=BytesSink(),
            )


async def test_a_storm_of_429s_loses_no_request(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(rate_limit_per_minute=20)
    users = [u["id"] for u in emulator.ground_truth()["users"]]
    settings = settings_for(emulator, requests_per_minute=1000)  # a budget far above the limit
    async with connect(settings, clock=EmulatorClock(emulator)) as client:
        found = await asyncio.gather(*(client.user(users[i % len(users)]) for i in range(60)))
    assert [u.id for u in found] == [users[i % len(users)] for i in range(60)]
    stats = emulator.stats()
    assert stats["rate_limited"] > 0
    ok = sum(
        r["count"] for r in stats["requests"] if r["status"] == 200 and "users" in r["endpoint"]
    )
    assert ok == 60


async def test_the_request_budget_avoids_429s(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(rate_limit_per_minute=20)
    users = [u["id"] for u in emulator.ground_truth()["users"]]
    settings = settings_for(emulator, requests_per_minute=20)
    async with connect(settings, clock=EmulatorClock(emulator)) as client:
        for i in range(60):
            await client.user(users[i % len(users)])
    assert emulator.stats()["rate_limited"] == 0
