"""The `batch` media strategy: the same archive as `transcode`, with far fewer API calls."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import av

from callarchive.imports.media import SCRATCH_STALE_S
from genesys_emulator.config import ALL_PERMISSIONS
from tests.imports.conftest import TODAY, InstallationFactory
from tests.imports.harness import Installation
from tests.imports.observe import (
    add_client,
    alerts,
    archived,
    assert_metadata_matches,
    buffered,
    inject,
    traffic_start,
    truth,
    waiting,
)

RECORDING_APIS = (  # everything that asks Genesys for recordings, media downloads aside
    "GET /api/v2/conversations/{conversationId}/recordings",
    "POST /api/v2/recording/batchrequests",
    "GET /api/v2/recording/batchrequests/{jobId}",
)
WHOLE_DAY = 24 * 60
PER_CONVERSATION = RECORDING_APIS[0]


def media_file(installation: Installation, recording_id: str, extension: str) -> Path:
    [path] = (installation.home / "media").rglob(f"{recording_id}.{extension}")
    return path


def decoded(path: Path) -> tuple[int, float]:
    """Channels and duration (ms) of a media file, decoding every frame."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels
        samples = rate = 0
        for frame in container.decode(stream):
            samples += frame.samples
            rate = frame.sample_rate
    return channels, samples * 1000 / rate


def recording_api_calls(installation: Installation) -> int:
    by_endpoint: dict[str, int] = installation.emulator.stats()["by_endpoint"]
    return sum(by_endpoint.get(endpoint, 0) for endpoint in RECORDING_APIS)


def assert_genesys_wav_bytes(installation: Installation) -> dict[str, Any]:
    """The archive holds every conversation, its metadata and Genesys's WAV bytes exactly;
    the ground truth."""
    want = truth(installation, formats="WAV")
    got = archived(installation)
    assert set(got) == set(want)
    for conversation_id, conversation in want.items():
        assert_metadata_matches(got[conversation_id], conversation)
        sha = {r["recording_id"]: r["formats"]["WAV"]["sha256"] for r in conversation["recordings"]}
        assert {r["recording_id"]: r["sha256"] for r in got[conversation_id]["recordings"]} == sha
    return want


def test_batch_in_the_trunk_codec_archives_genesys_bytes_exactly(
    make_installation: InstallationFactory,
) -> None:
    installation = make_installation(trunk_codec="WAV")
    installation.configure(fetch_strategy="batch", codec="WAV")
    installation.catch_up()
    assert_genesys_wav_bytes(installation)


def test_batch_archives_genesys_bytes_exactly_from_a_scratch_folder_on_another_file_system(
    make_installation: InstallationFactory,
) -> None:
    """A local media folder takes each downloaded file by a hard link, or by a copy when the
    scratch folder lies on another file system (here a tmpfs): the same archive either way."""
    installation = make_installation(trunk_codec="WAV")
    installation.configure(fetch_strategy="batch", codec="WAV")
    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        elsewhere = Path(folder)
        installation.home.mkdir(parents=True, exist_ok=True)
        (installation.home / "tmp").symlink_to(elsewhere)
        media = installation.home / "media"
        media.mkdir()
        assert elsewhere.stat().st_dev != media.stat().st_dev
        installation.catch_up()
        assert list(elsewhere.iterdir()) == []
    want = assert_genesys_wav_bytes(installation)
    files = [path for path in media.rglob("*") if path.is_file()]
    assert len(files) == sum(len(c["recordings"]) for c in want.values())
    assert all("#" not in path.name and path.stat().st_nlink == 1 for path in files)


def test_batch_downloads_cut_short_are_downloaded_again_and_archived_exactly(
    make_installation: InstallationFactory,
) -> None:
    """Half the media bodies end halfway: each download starts its local file and its sha256
    again (a recording cut three times waits in the retry buffer), and what is archived is
    Genesys's bytes exactly. Calls of at least 20 s: half of such a WAV file is more than the
    client's first chunk (256 KiB), so a cut comes after bytes were written."""
    installation = make_installation(
        trunk_codec="WAV",
        faults="truncated-media:0.5",
        mean_call_seconds=25,
        min_call_seconds=20,
        calls_per_hour=1,
    )
    installation.configure(fetch_strategy="batch", codec="WAV")
    for _ in range(8):
        installation.clock.advance(3600)
        installation.catch_up()
        if not buffered(installation):
            break
    want = assert_genesys_wav_bytes(installation)
    recordings = sum(len(c["recordings"]) for c in want.values())
    assert installation.emulator.stats()["by_endpoint"]["GET /media"] > recordings
    messages = [a.message for a in alerts(installation)]
    # Started again cleanly: no stored object ever failed its read-back.
    assert not [m for m in messages if "sha256" in m]


def test_batch_transcodes_locally_to_equivalent_audio(installation: Installation) -> None:
    installation.configure(fetch_strategy="batch", codec="MP3")
    installation.catch_up()
    want = truth(installation)
    got = archived(installation)
    assert set(got) == set(want)
    for conversation_id, conversation in want.items():
        assert_metadata_matches(got[conversation_id], conversation)
        stored = {r["recording_id"]: r for r in got[conversation_id]["recordings"]}
        assert set(stored) == {r["recording_id"] for r in conversation["recordings"]}
        for recording in conversation["recordings"]:
            assert stored[recording["recording_id"]]["codec"] == "MP3"
            archived_ms = stored[recording["recording_id"]]["duration_ms"]
            assert archived_ms is not None
            assert abs(archived_ms - recording["duration_ms"]) <= 100, recording["recording_id"]
            channels, duration_ms = decoded(
                media_file(installation, recording["recording_id"], "mp3")
            )
            assert channels == 2
            assert abs(duration_ms - recording["duration_ms"]) <= 100, recording["recording_id"]


def test_batch_makes_far_fewer_recording_api_calls_than_transcode(
    make_installation: InstallationFactory,
) -> None:
    calls = Counter[str]()
    imported = {}
    for strategy in ("transcode", "batch"):
        installation = make_installation()
        installation.configure(
            fetch_strategy=strategy, codec="OGG_OPUS", batch_duration_min=WHOLE_DAY
        )
        installation.catch_up()
        calls[strategy] = recording_api_calls(installation)
        imported[strategy] = set(archived(installation))
    assert imported["batch"] == imported["transcode"]
    assert len(imported["batch"]) >= 20
    assert calls["batch"] * 5 <= calls["transcode"], calls


def test_sensitive_recordings_left_out_of_a_batch_are_fetched_per_conversation(
    installation: Installation,
) -> None:
    add_client(
        installation, "no-sensitive", ALL_PERMISSIONS - {"recording:recording:viewSensitiveData"}
    )
    start = traffic_start(installation) + dt.timedelta(hours=12)
    sensitive = inject(installation, start + dt.timedelta(seconds=7), 5, sensitive=True)
    installation.configure(
        fetch_strategy="batch",
        codec="OGG_OPUS",
        client_id="no-sensitive",
        client_secret="no-sensitive-secret",
    )
    installation.catch_up()
    want = truth(installation, formats="OGG_OPUS")
    got = archived(installation)
    assert set(got) == set(want)
    conversation_id = sensitive["conversation_id"]
    sha = {
        r["recording_id"]: r["formats"]["OGG_OPUS"]["sha256"]
        for r in want[conversation_id]["recordings"]
    }
    assert {r["recording_id"]: r["sha256"] for r in got[conversation_id]["recordings"]} == sha
    assert_metadata_matches(got[conversation_id], want[conversation_id])
    sensitive_ids = {
        c["conversation_id"]
        for c in installation.emulator.ground_truth()["conversations"]
        if any(r["sensitive"] for r in c["recordings"])
    }
    assert conversation_id in sensitive_ids
    by_endpoint = installation.emulator.stats()["by_endpoint"]
    assert by_endpoint[PER_CONVERSATION] == len(sensitive_ids)


def test_batch_media_still_uploading_waits_in_the_retry_buffer_until_it_is_uploaded(
    make_installation: InstallationFactory,
) -> None:
    installation = make_installation(media_delay_s=3600, start=TODAY - dt.timedelta(days=2))
    start = installation.clock.now() - dt.timedelta(minutes=15)
    installation.configure(fetch_strategy="batch", codec="MP3", recording_start=start.isoformat())
    call = inject(installation, start + dt.timedelta(minutes=1), 5)
    assert installation.import_run().exit_code == 0
    assert waiting(installation) == [call["conversation_id"]]
    assert archived(installation) == {}

    installation.clock.advance(3600)
    assert installation.import_run().exit_code == 0
    assert buffered(installation) == []
    assert set(archived(installation)) == {call["conversation_id"]}


def test_an_import_removes_the_scratch_files_a_killed_import_left(
    make_installation: InstallationFactory,
) -> None:
    """A download's files and an analysis's folder untouched for hours were left by an import
    that was killed; a fresh one may be another import's under way, and other files are not
    the importer's."""
    installation = make_installation()
    installation.configure(fetch_strategy="batch")
    scratch = installation.home / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    left = scratch / "download-0123456789abcdef.original"
    left.write_bytes(b"half a recording")
    folder = scratch / "analysis-k2j4h5"
    folder.mkdir()
    (folder / "recording.wav").write_bytes(b"read back")
    under_way = scratch / "download-fedcba9876543210.original"
    under_way.write_bytes(b"still coming")
    not_ours = scratch / "notes.txt"
    not_ours.write_text("an operator's")
    hours_ago = time.time() - SCRATCH_STALE_S - 60
    for path in (left, folder, not_ours):
        os.utime(path, (hours_ago, hours_ago))
    installation.catch_up()
    assert archived(installation)
    # The import's own scratch files are gone too: only what is not stale or not ours is left.
    assert sorted(path.name for path in scratch.iterdir()) == [under_way.name, not_ours.name]
