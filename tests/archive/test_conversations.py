"""Archived conversations: idempotent saving, search by the indexed criteria, export."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from callarchive.archive import (
    Archive,
    Conversation,
    ConversationQuery,
    Direction,
    duration_seconds,
    export_record,
)
from callarchive.configuration import Codec, ImportSource, User
from tests.archive.builders import T0, conversation, recording
from tests.configuration.builders import make_source

SECTION_5_KEYS = [
    "start_date", "start_time", "end_date", "end_time", "duration", "user", "from",
    "from_info", "to", "to_info", "direction", "direction_user", "from_user", "to_user",
    "location", "platform_call_id", "source_platform", "conversation_type", "record_type",
    "user_id", "dialed_number", "end_cause", "audio_codec", "media_length", "voice_quality",
    "silence_ratio", "talkover_ratio", "longest_silence",
    "customer_speech_s", "agent_speech_s",  # beyond section 5: the audio analysis
    "recordings",
]  # fmt: skip
RECORDING_KEYS = ["recording_id", "codec", "size", "sha256", "duration_ms", "channels"]


@pytest.fixture
async def source(archive: Archive) -> ImportSource:
    await archive.users.add(User(login="jane", name="Jane Doe"), actor="t")
    await archive.users.add(User(login="joe", name="Joe Bloggs"), actor="t")
    return await archive.import_sources.add(make_source(), actor="t")


def source_id(source: ImportSource) -> int:
    assert source.id is not None
    return source.id


async def test_a_saved_conversation_reads_back_whole(
    archive: Archive, source: ImportSource
) -> None:
    original = conversation(source_id(source), "c-1")
    saved = await archive.conversations.save(original)
    assert saved.newly_imported
    assert saved.new_recordings == ("c-1-r1",)
    stored = await archive.conversations.get(saved.id)
    assert stored is not None
    assert stored.imported_at is not None
    assert stored.recordings[0].stored_at is not None
    expected = dataclasses.replace(
        original,
        id=saved.id,
        imported_at=stored.imported_at,
        recordings=(
            dataclasses.replace(original.recordings[0], stored_at=stored.recordings[0].stored_at),
        ),
    )
    assert stored == expected
    assert stored.platform_call_id == "c-1"


async def test_saving_again_is_already_imported_and_stores_nothing_twice(
    archive: Archive, source: ImportSource
) -> None:
    first = await archive.conversations.save(conversation(source_id(source), "c-1"))
    again = await archive.conversations.save(conversation(source_id(source), "c-1", user="Other"))
    assert again.id == first.id
    assert not again.newly_imported
    assert again.new_recordings == ()
    stored = await archive.conversations.get(first.id)
    assert stored is not None
    assert stored.user == "Jane Doe"
    assert len(stored.recordings) == 1


async def test_a_later_recording_is_added_to_an_archived_conversation(
    archive: Archive, source: ImportSource
) -> None:
    sid = source_id(source)
    await archive.conversations.save(conversation(sid, "c-1"))
    more = conversation(
        sid,
        "c-1",
        media_complete=True,
        recordings=(recording(sid, "c-1"), recording(sid, "c-1", 2)),
    )
    saved = await archive.conversations.save(more)
    assert saved.new_recordings == ("c-1-r2",)
    stored = await archive.conversations.get(saved.id)
    assert stored is not None
    assert [r.recording_id for r in stored.recordings] == ["c-1-r1", "c-1-r2"]
    assert stored.media_complete


async def test_the_same_genesys_id_from_another_source_is_another_conversation(
    archive: Archive, source: ImportSource
) -> None:
    other = await archive.import_sources.add(make_source(name="Dallas"), actor="t")
    sid, oid = source_id(source), source_id(other)
    await archive.conversations.save(conversation(sid, "c-1"))
    saved = await archive.conversations.save(
        conversation(
            oid, "c-1", recordings=(recording(oid, "c-1", codec=Codec.WAV, object_key="k2"),)
        )
    )
    assert saved.newly_imported


async def test_concurrent_saves_of_one_conversation_store_it_once(
    archive: Archive, source: ImportSource
) -> None:
    value = conversation(source_id(source), "c-1")
    results = await asyncio.gather(*(archive.conversations.save(value) for _ in range(4)))
    assert sum(r.newly_imported for r in results) == 1
    assert len({r.id for r in results}) == 1


async def test_search_filters_by_time_user_number_direction_and_call_id(
    archive: Archive, source: ImportSource
) -> None:
    sid = source_id(source)
    minute = dt.timedelta(minutes=1)
    for i in range(6):
        await archive.conversations.save(
            conversation(
                sid,
                f"c-{i}",
                start=T0 + i * minute,
                user_login="jane" if i % 2 == 0 else "joe",
                to_number=f"+1415555010{i}",
                direction=Direction.INBOUND if i < 3 else Direction.OUTBOUND,
                recordings=(recording(sid, f"c-{i}"),),
            )
        )

    async def ids(**criteria: object) -> list[str]:
        found = await archive.conversations.search(ConversationQuery(**criteria))  # type: ignore[arg-type]
        return [c.genesys_id for c in found]

    assert await ids() == ["c-5", "c-4", "c-3", "c-2", "c-1", "c-0"]
    assert await ids(start_from=T0 + minute, start_to=T0 + 3 * minute) == ["c-2", "c-1"]
    assert await ids(user="jane") == ["c-4", "c-2", "c-0"]
    assert await ids(user="jane", start_from=T0 + minute) == ["c-4", "c-2"]
    assert await ids(user="nobody") == []
    assert await ids(number="+14155550103") == ["c-3"]
    assert await ids(number="+13125550101", limit=2) == ["c-5", "c-4"]
    assert await ids(direction=Direction.INBOUND) == ["c-2", "c-1", "c-0"]
    assert await ids(platform_call_id="c-4") == ["c-4"]
    assert await ids(import_source_id=sid + 1) == []


async def test_search_pages_continue_where_the_last_ended(
    archive: Archive, source: ImportSource
) -> None:
    sid = source_id(source)
    for i in range(5):  # equal start times: the id breaks the tie
        await archive.conversations.save(
            conversation(sid, f"c-{i}", recordings=(recording(sid, f"c-{i}"),))
        )
    seen: list[str] = []
    query = ConversationQuery(limit=2)
    while page := await archive.conversations.search(query):
        seen += [c.genesys_id for c in page]
        last = page[-1]
        assert last.id is not None
        query = dataclasses.replace(query, before=(last.start, last.id))
    assert sorted(seen) == [f"c-{i}" for i in range(5)]
    assert len(seen) == 5


async def test_the_export_has_the_section_5_keys_in_the_recording_timezone(
    archive: Archive, source: ImportSource
) -> None:
    sid = source_id(source)
    await archive.conversations.save(conversation(sid, "c-1"))
    await archive.conversations.save(
        conversation(
            sid, "c-0", start=T0 - dt.timedelta(hours=1), recordings=(recording(sid, "c-0"),)
        )
    )
    records = [record async for record in archive.conversations.export(page_size=1)]
    assert [r["platform_call_id"] for r in records] == ["c-0", "c-1"]
    record = records[1]
    assert list(record) == SECTION_5_KEYS
    assert list(record["recordings"][0]) == RECORDING_KEYS
    # 15:00 UTC on 1 March 2024 is 09:00 in Chicago (CST).
    assert (record["start_date"], record["start_time"]) == ("2024-03-01", "09:00:00")
    assert (record["end_date"], record["end_time"]) == ("2024-03-01", "09:01:01")
    assert record["source_platform"] == "Genesys"
    assert record["conversation_type"] == "Voice"
    assert record["record_type"] == "Standard"
    assert record["direction"] == "outbound"
    assert record["user_id"] == "agent-jane"


def test_an_unfinished_conversation_exports_without_end() -> None:
    record = export_record(
        Conversation(import_source_id=1, genesys_id="c", start=T0), ZoneInfo("UTC")
    )
    assert record["end_date"] is None
    assert record["duration"] is None


def test_durations_round_half_up_to_whole_seconds() -> None:
    assert duration_seconds(T0, T0 + dt.timedelta(seconds=60, milliseconds=499)) == 60
    assert duration_seconds(T0, T0 + dt.timedelta(seconds=60, milliseconds=500)) == 61


async def test_recordings_can_be_marked_deleted_in_genesys(
    archive: Archive, source: ImportSource
) -> None:
    saved = await archive.conversations.save(conversation(source_id(source), "c-1"))
    await archive.conversations.mark_deleted_in_genesys("c-1-r1", Codec.MP3, at=T0)
    stored = await archive.conversations.get(saved.id)
    assert stored is not None
    assert stored.recordings[0].deleted_in_genesys_at == T0


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Conversation(import_source_id=1, genesys_id="c", start=dt.datetime(2024, 1, 1))  # noqa: DTZ001
