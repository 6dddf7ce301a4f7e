"""Every client method against the emulator over real HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest

from callarchive.genesys import (
    GenesysClient,
    GenesysPermissionError,
    GenesysUnavailableError,
    MediaNotReadyError,
    NotFoundError,
    connect,
)
from tests.emulator.harness import RunningEmulator
from tests.genesys.conftest import BASE, EmulatorClock, EmulatorFactory, settings_for

DAY_START = dt.datetime.combine(BASE.start, dt.time(), dt.UTC)  # type: ignore[arg-type]
# A busy stretch of the first day: enough calls for every case, few to encode.
BUSY = {"from": f"{BASE.start}T08:00:00Z", "to": f"{BASE.start}T14:00:00Z"}


class BytesSink:
    """Collects downloaded media in memory."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.resets = 0

    async def write(self, chunk: bytes) -> None:
        self.data.extend(chunk)

    async def reset(self) -> None:
        self.data.clear()
        self.resets += 1


def recorded_voice(truth: dict[str, Any], start: dt.datetime, end: dt.datetime) -> list[str]:
    """Ids of recorded voice conversations started in [start, end), from the ground truth."""
    ids = []
    for conversation in truth["conversations"]:
        began = dt.datetime.fromisoformat(conversation["start"])
        if conversation["voice"] and conversation["recorded"] and start <= began < end:
            ids.append(conversation["conversation_id"])
    return ids


def with_recordings(truth: dict[str, Any], count: int = 1) -> dict[str, Any]:
    return next(
        c
        for c in truth["conversations"]
        if c["voice"] and c["ended"] and len(c["recordings"]) == count
    )


async def test_query_pages_through_every_recorded_voice_conversation(
    genesys: GenesysClient, emulator: RunningEmulator
) -> None:
    end = DAY_START + dt.timedelta(days=1)
    found = [c async for c in genesys.query_conversations(DAY_START, end, page_size=10)]
    started = [c for c in found if DAY_START <= c.conversation_start < end]
    expected = recorded_voice(emulator.ground_truth(), DAY_START, end)
    assert len(expected) > 30  # several pages of 10
    assert [c.conversation_id for c in started] == expected
    assert len({c.conversation_id for c in found}) == len(found)
    assert all(c.recorded for c in found)


@pytest.mark.parametrize("page_size", [10, 7])
async def test_query_pages_on_without_total_hits_until_a_short_page(
    make_emulator: EmulatorFactory, page_size: int
) -> None:
    emulator = make_emulator(faults="no-total-hits")
    end = DAY_START + dt.timedelta(days=1)
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as genesys:
        found = [c async for c in genesys.query_conversations(DAY_START, end, page_size=page_size)]
    started = [c.conversation_id for c in found if DAY_START <= c.conversation_start < end]
    expected = recorded_voice(emulator.ground_truth(), DAY_START, end)
    assert len(found) > 3 * page_size  # several pages
    assert started == expected
    pages = sum(
        row["count"]
        for row in emulator.stats()["requests"]
        if row["endpoint"].endswith("details/query")
    )
    assert pages == len(found) // page_size + 1  # the last one short (or empty)


@pytest.mark.parametrize("share", [4, 9])
async def test_an_interval_with_more_conversations_than_a_query_pages_through_is_split(
    make_emulator: EmulatorFactory, share: int
) -> None:
    """A query may page through `max_results` conversations, a `share` of the day's (the
    emulator's traffic is drawn anew for each date, so its count changes from day to day)."""
    emulator = make_emulator()
    end = DAY_START + dt.timedelta(days=1, milliseconds=7)  # halves fall between milliseconds
    expected = recorded_voice(emulator.ground_truth(), DAY_START, end)
    max_results = len(expected) // share
    assert max_results >= 8
    assert len(expected) > 3 * max_results  # a split and splits of halves
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as genesys:
        found = [
            c
            async for c in genesys.query_conversations(
                DAY_START, end, page_size=4, max_results=max_results
            )
        ]
    started = [c.conversation_id for c in found if DAY_START <= c.conversation_start < end]
    assert started == expected  # each once, in order, none left out
    assert len({c.conversation_id for c in found}) == len(found)
    queried = [
        row for row in emulator.stats()["requests"] if row["endpoint"].endswith("details/query")
    ]
    assert sum(row["count"] for row in queried) > len(found) // 4  # the halves were asked


async def test_a_count_over_the_limit_with_a_short_first_page_is_an_error_not_a_split(
    make_emulator: EmulatorFactory,
) -> None:
    emulator = make_emulator(faults="endless-paging:1")  # totalHits 1,000,000 on every page
    end = DAY_START + dt.timedelta(days=1)
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as genesys:
        with pytest.raises(GenesysUnavailableError, match="a wrong count or a paging loop"):
            [c async for c in genesys.query_conversations(DAY_START, end)]
    queried = [
        row for row in emulator.stats()["requests"] if row["endpoint"].endswith("details/query")
    ]
    assert sum(row["count"] for row in queried) == 1


async def test_an_interval_too_full_to_split_further_is_an_error(
    make_emulator: EmulatorFactory,
) -> None:
    emulator = make_emulator()
    recorded = [
        (dt.datetime.fromisoformat(c["start"]), dt.datetime.fromisoformat(c["end"]))
        for c in emulator.ground_truth()["conversations"]
        if c["voice"] and c["recorded"] and c["end"]
    ]
    # An instant two recorded conversations are both in progress: a millisecond there holds 2.
    instant = next(
        later for later, _ in recorded if any(s < later < e for s, e in recorded if s != later)
    )
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as genesys:
        with pytest.raises(GenesysUnavailableError, match="more than one details query"):
            [
                c
                async for c in genesys.query_conversations(
                    instant, instant + dt.timedelta(milliseconds=1), page_size=1, max_results=1
                )
            ]


async def test_details_job_returns_the_conversations_with_partition_attributes(
    genesys: GenesysClient, emulator: RunningEmulator
) -> None:
    end = DAY_START + dt.timedelta(days=1)
    job_id = await genesys.submit_details_job(DAY_START, end)
    assert (await genesys.details_job_status(job_id)).state == "QUEUED"
    emulator.advance(10)
    assert (await genesys.details_job_status(job_id)).state == "FULFILLED"
    found = [c async for c in genesys.details_job_results(job_id, page_size=7)]
    started = [c.conversation_id for c in found if DAY_START <= c.conversation_start < end]
    assert started == recorded_voice(emulator.ground_truth(), DAY_START, end)
    partitions = {
        p.attributes["partition"]
        for c in found
        for p in c.participants
        if "partition" in p.attributes
    }
    assert partitions <= {"Institutional", "Retail", "Private Clients"}
    assert partitions
    await genesys.delete_details_job(job_id)


async def test_data_availability_lags_the_emulator_clock(
    genesys: GenesysClient, emulator: RunningEmulator
) -> None:
    available = await genesys.data_availability()
    lag = (emulator.now() - available).total_seconds()
    assert BASE.data_lag_s <= lag < BASE.data_lag_s + 120


async def test_recording_metadata_lists_every_recording(
    genesys: GenesysClient, emulator: RunningEmulator
) -> None:
    conversation = with_recordings(emulator.ground_truth(), count=2)
    metadata = await genesys.recording_metadata(conversation["conversation_id"])
    assert [m.id for m in metadata] == [r["recording_id"] for r in conversation["recordings"]]
    assert {m.file_state for m in metadata} == {"AVAILABLE"}


@pytest.mark.parametrize("format_id", ["WAV", "MP3", "OGG_OPUS"])
async def test_download_recording_matches_the_ground_truth_bytes(
    genesys: GenesysClient, emulator: RunningEmulator, format_id: str
) -> None:
    conversation = with_recordings(emulator.ground_truth(formats=format_id, **BUSY))
    recording = conversation["recordings"][0]
    sink = BytesSink()
    download = await genesys.download_recording(
        conversation["conversation_id"], recording["recording_id"], format_id=format_id, sink=sink
    )
    assert hashlib.sha256(sink.data).hexdigest() == recording["formats"][format_id]["sha256"]
    assert download.size == len(sink.data) == recording["formats"][format_id]["size"]
    assert emulator.stats()["media_requests_with_bearer"] == 0


async def test_recordings_reply_is_not_ready_while_transcoding(
    make_emulator: EmulatorFactory,
) -> None:
    emulator = make_emulator(transcode_ms=600_000)
    conversation = with_recordings(emulator.ground_truth())
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as genesys:
        reply = await genesys.recordings(
            conversation["conversation_id"], format_id="WAV", max_wait_ms=50
        )
        assert not reply.ready
        assert reply.retry_after_s >= 1
        assert all(r.media_uri() is None for r in reply.recordings)
        recording_id = conversation["recordings"][0]["recording_id"]
        with pytest.raises(MediaNotReadyError) as raised:
            await genesys.recording(conversation["conversation_id"], recording_id, format_id="WAV")
        assert raised.value.retry_after_s >= 1
        emulator.advance(reply.retry_after_s + 1)
        reply = await genesys.recordings(
            conversation["conversation_id"], format_id="WAV", max_wait_ms=50
        )
        assert reply.ready
        assert all(r.media_uri() for r in reply.recordings)


async def test_set_delete_date_deletes_the_recording_once_the_date_passes(
    genesys: GenesysClient, emulator: RunningEmulator
) -> None:
    conversation = with_recordings(emulator.ground_truth())
    conversation_id = conversation["conversation_id"]
    recording_id = conversation["recordings"][0]["recording_id"]
    when = emulator.now() + dt.timedelta(minutes=5)
    updated = await genesys.set_delete_date(conversation_id, recording_id, when)
    assert updated.delete_date is not None
    assert abs((updated.delete_date - when).total_seconds()) < 1
    emulator.advance(301)
    [metadata] = [
        m for m in await genesys.recording_metadata(conversation_id) if m.id == recording_id
    ]
    assert metadata.file_state == "DELETED"


async def test_set_delete_date_without_the_permission_is_a_permission_error(
    make_emulator: EmulatorFactory,
) -> None:
    emulator = make_emulator()
    emulator.control(
        "POST",
        "clients",
        json={
            "client_id": "viewer",
            "client_secret": "viewer-secret",
            "permissions": ["analytics:conversationDetail:view", "recording:recording:view"],
        },
    )
    conversation = with_recordings(emulator.ground_truth())
    settings = settings_for(emulator, client_id="viewer", client_secret="viewer-secret")
    async with connect(settings, clock=EmulatorClock(emulator)) as genesys:
        with pytest.raises(GenesysPermissionError, match="editRetention") as raised:
            await genesys.set_delete_date(
                conversation["conversation_id"],
                conversation["recordings"][0]["recording_id"],
                emulator.now(),
            )
    assert raised.value.status == 403
    assert raised.value.correlation_id


async def test_batch_download_returns_every_recording_in_the_trunk_codec(
    genesys: GenesysClient, emulator: RunningEmulator
) -> None:
    truth = emulator.ground_truth(formats=BASE.trunk_codec, **BUSY)
    conversation = with_recordings(truth, count=2)
    job_id = await genesys.submit_batch([(conversation["conversation_id"], None)])
    emulator.advance(BASE.batch_delay_s + 1)
    status = await genesys.batch_status(job_id)
    assert status.completed
    by_recording = {r.recording_id: r for r in status.results}
    for recording in conversation["recordings"]:
        sink = BytesSink()
        result = by_recording[recording["recording_id"]]
        assert result.result_url is not None
        download = await genesys.download(result.result_url, sink)
        assert download.size == len(sink.data)
        assert (
            hashlib.sha256(sink.data).hexdigest()
            == (recording["formats"][BASE.trunk_codec]["sha256"])
        )


async def test_batch_of_more_than_100_items_is_refused_before_sending(
    genesys: GenesysClient,
) -> None:
    with pytest.raises(ValueError, match="1 to 100"):
        await genesys.submit_batch([(f"c{i}", None) for i in range(101)])


async def test_users_are_looked_up_in_bulk_including_those_who_left(
    genesys: GenesysClient, emulator: RunningEmulator
) -> None:
    truth_users = emulator.ground_truth()["users"]
    users = await genesys.users([u["id"] for u in truth_users])
    assert sorted(u.id for u in users) == sorted(u["id"] for u in truth_users)
    states = {u.state for u in users}
    assert "deleted" in states
    by_id = {u.id: u for u in users}
    for truth in truth_users:
        assert truth["number"] in by_id[truth["id"]].phone_numbers()
        assert truth["extension"] in by_id[truth["id"]].phone_numbers()


async def test_one_user_by_id(genesys: GenesysClient, emulator: RunningEmulator) -> None:
    truth = emulator.ground_truth()["users"][3]
    user = await genesys.user(truth["id"])
    assert (user.name, user.username) == (truth["name"], truth["username"])
    assert (user.manager.id if user.manager else None) == truth["manager_id"]


async def test_unknown_conversation_is_not_found(genesys: GenesysClient) -> None:
    with pytest.raises(NotFoundError) as raised:
        await genesys.recording_metadata("00000000-0000-4000-8000-000000000000")
    assert raised.value.status == 404
    assert raised.value.code == "not.found"
