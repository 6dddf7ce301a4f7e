"""The audio analysis inside the import: every imported recording is measured, the figures are
stored, exported and searchable, the waveform readable; an undecodable recording is archived
anyway, with an alert and empty analysis fields."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from callarchive.alerts import AlertKind
from callarchive.analysis import media_length
from callarchive.archive import ConversationQuery, Waveform, media_key
from callarchive.configuration import Codec
from tests.imports.harness import SOURCE, Installation
from tests.imports.test_end_to_end import expected

RATIO_TOLERANCE = 0.03
LONGEST_SILENCE_TOLERANCE_S = 0.3
# These calls last seconds and some recordings under one: 0.03 of a second is less than the
# speech fading in and out at a recording's edges, so short media get 0.1 s of speech time.
EDGE_S = 0.1


def combined(recordings: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The ground truth's figures of a conversation, its recordings played one after the other
    (docs/imports.md)."""
    seconds = [r["duration_ms"] / 1000 for r in recordings]
    truths = [r["analysis"] for r in recordings]
    silence = sum(t["silence_ratio"] * s for t, s in zip(truths, seconds, strict=True))
    speech = sum(s for s in seconds) - silence
    talkover = sum(
        t["talkover_ratio"] * (1 - t["silence_ratio"]) * s
        for t, s in zip(truths, seconds, strict=True)
    )
    return {
        "media_seconds": sum(seconds),
        "silence_ratio": silence / sum(seconds),
        "talkover_ratio": talkover / speech if speech else 0.0,
        "longest_silence": max(t["longest_silence"] for t in truths),
    }


async def _peaks(installation: Installation, genesys_ids: Sequence[str]) -> list[Waveform | None]:
    async with installation.wiring().archive() as archive:
        source = await archive.import_sources.get(SOURCE)
        assert source.id is not None
        found = []
        for genesys_id in genesys_ids:
            conversation = await archive.conversations.find(source.id, genesys_id)
            assert conversation is not None
            assert conversation.id is not None
            found += [
                await archive.conversations.waveform(conversation.id, recording.recording_id)
                for recording in conversation.recordings
            ]
        return found


# `batch` analyses the local copy it downloaded (or transcoded locally, MP3), not a read-back.
@pytest.mark.parametrize(
    ("strategy", "codec"),
    [("transcode", "WAV"), ("transcode", "OGG_OPUS"), ("batch", "WAV"), ("batch", "MP3")],
)
def test_imported_conversations_carry_the_audio_analysis(
    installation: Installation, strategy: str, codec: str
) -> None:
    installation.configure(codec=codec, fetch_strategy=strategy)
    installation.catch_up()
    truth = expected(installation, codec)
    archived = {r["platform_call_id"]: r for r in installation.exported()}
    assert set(archived) == set(truth)
    for conversation_id, conversation in truth.items():
        got, want = archived[conversation_id], combined(conversation["recordings"])
        assert got["media_length"] == media_length(want["media_seconds"]), conversation_id
        spoken = (1 - want["silence_ratio"]) * want["media_seconds"]
        media_tolerance = max(RATIO_TOLERANCE, EDGE_S / want["media_seconds"])
        speech_tolerance = max(RATIO_TOLERANCE, EDGE_S / spoken)
        assert got["silence_ratio"] == pytest.approx(want["silence_ratio"], abs=media_tolerance)
        assert got["talkover_ratio"] == pytest.approx(want["talkover_ratio"], abs=speech_tolerance)
        assert got["longest_silence"] == pytest.approx(
            want["longest_silence"], abs=LONGEST_SILENCE_TOLERANCE_S
        )
        assert got["customer_speech_s"] + got["agent_speech_s"] >= spoken - EDGE_S
    peaks = asyncio.run(_peaks(installation, sorted(truth)))
    assert peaks
    assert all(p is not None and len(p.channels) == 2 for p in peaks)


async def _plant(installation: Installation, conversation: dict[str, Any], data: bytes) -> None:
    """Put bytes where the conversation's recording will be stored: the import keeps an object
    it finds under a recording's key (put-if-absent), so this is the media it archives."""
    async with installation.wiring().archive() as archive:
        source = await archive.import_sources.get(SOURCE)
    assert source.id is not None
    recording_id = conversation["recordings"][0]["recording_id"]
    start = dt.datetime.fromisoformat(conversation["start"])
    key = media_key(source.id, start, conversation["conversation_id"], recording_id, Codec.WAV)

    async def chunks() -> Any:
        yield data

    await installation.wiring().media_store().put(key, chunks())


async def _alerts_and_search(installation: Installation) -> tuple[list[Any], list[str]]:
    async with installation.wiring().archive() as archive:
        alerts = await archive.alerts.list(limit=1000)
        noisy = await archive.conversations.search(ConversationQuery(min_silence_ratio=0.0))
        return alerts, [c.genesys_id for c in noisy]


@pytest.mark.parametrize("strategy", ["transcode", "batch"])
def test_an_undecodable_recording_is_archived_with_an_alert_and_no_figures(
    installation: Installation, strategy: str
) -> None:
    installation.configure(codec="WAV", fetch_strategy=strategy)
    truth = expected(installation, "WAV")
    broken = next(c for c in truth.values() if len(c["recordings"]) == 1)
    asyncio.run(_plant(installation, broken, b"RIFF\x00\x00\x00\x00WAVE not audio at all"))
    installation.catch_up()
    archived = {r["platform_call_id"]: r for r in installation.exported()}
    assert set(archived) == set(truth)
    record = archived[broken["conversation_id"]]
    assert len(record["recordings"]) == 1
    empty = ("media_length", "silence_ratio", "talkover_ratio", "longest_silence")
    assert [record[key] for key in empty] == [None] * 4
    assert (record["customer_speech_s"], record["agent_speech_s"]) == (None, None)
    others = [r for cid, r in archived.items() if cid != broken["conversation_id"]]
    assert others
    assert all(r["silence_ratio"] is not None for r in others)
    alerts, searchable = asyncio.run(_alerts_and_search(installation))
    [alert] = [a for a in alerts if a.kind == AlertKind.MEDIA_UNDECODABLE.value]
    assert alert.title == "Conversation failed to import"
    assert broken["conversation_id"] in alert.message
    assert alert.conversation_id is not None
    assert broken["conversation_id"] not in searchable
    assert len(searchable) == len(others)
    assert asyncio.run(_peaks(installation, [broken["conversation_id"]])) == [None]


def test_the_figures_are_searchable_from_the_archive(installation: Installation) -> None:
    installation.configure(codec="WAV")
    installation.catch_up()
    records = installation.exported()
    middle = sorted(r["silence_ratio"] for r in records)[len(records) // 2]

    async def search() -> tuple[list[str], list[str]]:
        async with installation.wiring().archive() as archive:
            quiet = await archive.conversations.search(
                ConversationQuery(min_silence_ratio=middle, limit=1000)
            )
            busy = await archive.conversations.search(
                ConversationQuery(max_silence_ratio=middle, limit=1000)
            )
            return [c.genesys_id for c in quiet], [c.genesys_id for c in busy]

    quiet, busy = asyncio.run(search())
    assert sorted(quiet) == sorted(
        r["platform_call_id"] for r in records if r["silence_ratio"] >= middle
    )
    assert sorted(busy) == sorted(
        r["platform_call_id"] for r in records if r["silence_ratio"] <= middle
    )
    assert quiet
    assert busy
