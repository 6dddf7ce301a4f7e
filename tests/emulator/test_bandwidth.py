"""The media host's bandwidth cap: downloads share one link of the configured speed."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from genesys_emulator.bandwidth import Link
from tests.emulator.conftest import EmulatorFactory
from tests.emulator.harness import recorded_conversation


def test_a_chunk_waits_for_its_transfer_time_on_an_idle_link():
    link = Link(800)  # 100,000 bytes a second

    assert link.reserve(50_000, now=10.0) == pytest.approx(0.5)


def test_chunks_sent_together_queue_behind_each_other():
    link = Link(800)

    waits = [link.reserve(100_000, now=10.0) for _ in range(3)]

    assert waits == pytest.approx([1.0, 2.0, 3.0])


def test_an_idle_link_does_not_bank_bandwidth_for_later():
    link = Link(800)
    link.reserve(100_000, now=10.0)

    assert link.reserve(100_000, now=100.0) == pytest.approx(1.0)


def test_a_link_needs_a_positive_bandwidth():
    with pytest.raises(ValueError, match="positive bandwidth"):
        Link(0)


def test_a_capped_media_host_serves_the_whole_file_and_ranges(make_emulator: EmulatorFactory):
    emulator = make_emulator(media_bandwidth_kbps=100_000)
    conversation = recorded_conversation(emulator.ground_truth(formats="WAV"))
    recording = conversation["recordings"][0]
    path = f"/api/v2/conversations/{conversation['conversation_id']}/recordings/"
    with emulator.api() as api:
        reply = api.get(path + recording["recording_id"], params={"formatId": "WAV"})
    url = reply.json()["mediaUris"]["S"]["mediaUri"]

    with httpx.Client(timeout=30) as http:
        whole = http.get(url)
        part = http.get(url, headers={"Range": "bytes=10-19"})

    assert hashlib.sha256(whole.content).hexdigest() == recording["formats"]["WAV"]["sha256"]
    assert part.status_code == 206
    assert part.content == whole.content[10:20]
