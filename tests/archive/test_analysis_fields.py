"""The audio analysis in the archive: stored with conversations and recordings, searchable by
range, exported, and each recording's waveform peaks readable for the player."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from callarchive.archive import (
    Archive,
    Conversation,
    ConversationQuery,
    RecordingAnalysis,
    Waveform,
)
from callarchive.configuration import ImportSource, User
from tests.archive.builders import conversation, recording
from tests.configuration.builders import make_source

FIGURES = RecordingAnalysis(
    media_seconds=61.0,
    channels=2,
    customer_speech_s=20.5,
    agent_speech_s=25.0,
    speech_s=40.0,
    talkover_s=5.5,
    longest_silence_s=3.25,
)
WAVEFORM = Waveform(
    seconds_per_peak=0.08,
    channels=(((-0.5, 0.5), (-0.25, 0.125)), ((0.0, 0.0), (-1.0, 1.0))),
)


@pytest.fixture
async def source_id(archive: Archive) -> int:
    await archive.users.add(User(login="jane", name="Jane Doe"), actor="t")
    source: ImportSource = await archive.import_sources.add(make_source(), actor="t")
    assert source.id is not None
    return source.id


def analysed(source_id: int, genesys_id: str, **figures: float | str) -> Conversation:
    return conversation(
        source_id,
        genesys_id,
        recordings=(recording(source_id, genesys_id, analysis=FIGURES),),
        media_complete=True,
        **{
            "media_length": "000:01:01",
            "silence_ratio": 0.3443,
            "talkover_ratio": 0.1375,
            "longest_silence": 3.25,
            "customer_speech_s": 20.5,
            "agent_speech_s": 25.0,
            **figures,
        },
    )


async def test_the_figures_are_stored_and_exported(archive: Archive, source_id: int) -> None:
    saved = await archive.conversations.save(analysed(source_id, "c-1"))
    found = await archive.conversations.get(saved.id)
    assert found is not None
    assert (found.silence_ratio, found.talkover_ratio, found.longest_silence) == (
        0.3443,
        0.1375,
        3.25,
    )
    assert (found.customer_speech_s, found.agent_speech_s) == (20.5, 25.0)
    assert found.recordings[0].analysis == FIGURES
    [record] = [r async for r in archive.conversations.export()]
    assert record["media_length"] == "000:01:01"
    assert (record["customer_speech_s"], record["agent_speech_s"]) == (20.5, 25.0)


async def test_a_recording_s_waveform_reads_back_from_its_few_stored_bytes(
    archive: Archive, source_id: int
) -> None:
    record = analysed(source_id, "c-1")
    stored = dataclasses.replace(
        record,
        recordings=(dataclasses.replace(record.recordings[0], waveform=WAVEFORM.to_bytes()),),
    )
    saved = await archive.conversations.save(stored)
    peaks = await archive.conversations.waveform(saved.id, "c-1-r1")
    assert peaks is not None
    assert peaks.seconds_per_peak == pytest.approx(0.08)
    np.testing.assert_allclose(peaks.channels, WAVEFORM.channels, atol=1 / 127)
    assert await archive.conversations.waveform(saved.id, "c-1-r9") is None
    assert await archive.conversations.waveform(saved.id + 1, "c-1-r1") is None


async def test_an_unanalysed_recording_has_no_figures_and_no_waveform(
    archive: Archive, source_id: int
) -> None:
    saved = await archive.conversations.save(conversation(source_id, "c-1"))
    found = await archive.conversations.get(saved.id)
    assert found is not None
    assert found.recordings[0].analysis is None
    assert (found.silence_ratio, found.media_length, found.customer_speech_s) == (None,) * 3
    assert await archive.conversations.waveform(saved.id, "c-1-r1") is None


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"min_silence_ratio": 0.2}, ["c-3", "c-2"]),
        ({"max_silence_ratio": 0.2}, ["c-1"]),
        ({"min_silence_ratio": 0.1, "max_silence_ratio": 0.3}, ["c-2", "c-1"]),
        ({"min_talkover_ratio": 0.05}, ["c-3"]),
        ({"max_talkover_ratio": 0.01}, ["c-2", "c-1"]),
        ({"min_longest_silence": 10.0}, ["c-2"]),
        ({"max_longest_silence": 2.0, "min_silence_ratio": 0.4}, ["c-3"]),
    ],
)
async def test_search_takes_ranges_of_the_figures(
    archive: Archive, source_id: int, criteria: dict[str, float], expected: list[str]
) -> None:
    rows = {
        "c-1": {"silence_ratio": 0.1, "talkover_ratio": 0.0, "longest_silence": 1.5},
        "c-2": {"silence_ratio": 0.3, "talkover_ratio": 0.01, "longest_silence": 12.0},
        "c-3": {"silence_ratio": 0.5, "talkover_ratio": 0.2, "longest_silence": 2.0},
    }
    for genesys_id, figures in rows.items():
        await archive.conversations.save(analysed(source_id, genesys_id, **figures))
    await archive.conversations.save(conversation(source_id, "unanalysed"))
    found = await archive.conversations.search(ConversationQuery(**criteria))
    assert sorted(c.genesys_id for c in found) == sorted(expected)


async def test_completing_the_media_later_stores_the_figures(
    archive: Archive, source_id: int
) -> None:
    first = await archive.conversations.save(conversation(source_id, "c-1", recordings=()))
    again = await archive.conversations.save(analysed(source_id, "c-1"))
    assert again.id == first.id
    found = await archive.conversations.get(first.id)
    assert found is not None
    assert (found.media_length, found.longest_silence) == ("000:01:01", 3.25)
    assert found.media_complete
