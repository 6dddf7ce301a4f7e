"""Synthetic call audio: speech plans, rendering, encoding in every format, and the media cache."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import re
import subprocess
import sys
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from genesys_emulator import audio
from genesys_emulator.audio import (
    FORMATS,
    SAMPLE_RATE,
    MediaCache,
    SpeechPlan,
    encode,
    plan_speech,
    render_chunks,
)

Segment = tuple[int, int]

MINUTE = 60_000
HOUR = 60 * MINUTE


def _speech(plan: SpeechPlan) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    return plan.customer, plan.agent


def _union(plan: SpeechPlan) -> list[Segment]:
    merged: list[Segment] = []
    for start, end in sorted(plan.customer + plan.agent):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _silences(plan: SpeechPlan) -> list[int]:
    """Lengths of the pauses where neither side speaks, between the first and last words."""
    merged = _union(plan)
    return [later[0] - earlier[1] for earlier, later in itertools.pairwise(merged)]


def _talking_ms(segments: tuple[Segment, ...] | list[Segment]) -> int:
    return sum(end - start for start, end in segments)


def _overlap_ms(plan: SpeechPlan) -> int:
    """How long both sides talk at once (segments are disjoint within a channel)."""
    return _talking_ms(plan.customer) + _talking_ms(plan.agent) - _talking_ms(_union(plan))


def _render(plan: SpeechPlan, seed: int, chunk_ms: int = 10_000) -> npt.NDArray[np.int16]:
    return np.concatenate(list(render_chunks(plan, seed, chunk_ms)), axis=1)


def _encoded(plan: SpeechPlan, seed: int, format_id: str) -> bytes:
    sink = io.BytesIO()
    encode(plan, seed, format_id, sink)
    return sink.getvalue()


def _decode(data: bytes) -> tuple[npt.NDArray[np.float64], int]:
    """Decode to float samples shaped (channels, n) and the decoder's sample rate."""
    parts = []
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            samples = frame.to_ndarray().astype(np.float64)
            if not frame.format.is_planar:
                samples = samples.reshape(-1, frame.layout.nb_channels).T
            if frame.format.name.startswith("s16"):
                samples /= 32768
            parts.append(samples)
        rate = stream.codec_context.sample_rate
    return np.concatenate(parts, axis=1), rate


def _rms(samples: npt.NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(samples**2)))


def _windows(
    samples: npt.NDArray[np.float64], rate: int, windows: list[Segment]
) -> npt.NDArray[np.float64]:
    picked = [samples[start * rate // 1000 : end * rate // 1000] for start, end in windows]
    return np.concatenate(picked)


def _inside(segments: tuple[Segment, ...] | list[Segment], margin: int) -> list[Segment]:
    return [(start + margin, end - margin) for start, end in segments if end - start > 3 * margin]


def _pauses(plan: SpeechPlan, margin: int) -> list[Segment]:
    """Stretches where neither side speaks, kept ``margin`` ms clear of any speech."""
    edges = [(0, 0), *_union(plan), (plan.duration_ms, plan.duration_ms)]
    gaps = [(earlier[1], later[0]) for earlier, later in itertools.pairwise(edges)]
    return _inside(gaps, margin)


# --- plan ------------------------------------------------------------------------------------


@pytest.mark.parametrize("duration_ms", [1_000, 4 * MINUTE, 2 * HOUR])
def test_plan_is_a_function_of_seed_and_duration(duration_ms: int) -> None:
    assert plan_speech(5, duration_ms) == plan_speech(5, duration_ms)
    assert plan_speech(5, duration_ms) != plan_speech(6, duration_ms)


@pytest.mark.parametrize(
    "duration_ms", [1, 250, 1_000, 1_700, 3_000, 5_000, 30_000, 5 * MINUTE, 30 * MINUTE]
)
def test_plan_segments_are_sorted_disjoint_and_inside_the_call(duration_ms: int) -> None:
    for seed in range(40):
        plan = plan_speech(seed, duration_ms)
        assert plan.duration_ms == duration_ms
        assert plan.customer or plan.agent
        for segments in _speech(plan):
            for start, end in segments:
                assert 0 <= start < end <= duration_ms
            for (_, end), (start, _) in itertools.pairwise(segments):
                assert end < start


@pytest.mark.parametrize("duration_ms", [1_000, 3_000, 30_000, 30 * MINUTE])
def test_plan_utterances_last_between_400_ms_and_6_s(duration_ms: int) -> None:
    for seed in range(40):
        plan = plan_speech(seed, duration_ms)
        lengths = [end - start for segments in _speech(plan) for start, end in segments]
        assert min(lengths) >= 400
        assert max(lengths) <= 6_000


@pytest.mark.parametrize("duration_ms", [1_000, 5_000, 50_000])
def test_short_calls_have_no_hold(duration_ms: int) -> None:
    for seed in range(40):
        assert max(_silences(plan_speech(seed, duration_ms)), default=0) <= 3_000


@pytest.mark.parametrize("duration_ms", [30 * MINUTE, 1 * HOUR])
def test_long_calls_have_holds_and_both_sides_talking_at_once(duration_ms: int) -> None:
    for seed in range(20):
        plan = plan_speech(seed, duration_ms)
        silences = _silences(plan)
        assert max(silences) >= 5_000
        assert max(silences) <= 20_000
        assert _overlap_ms(plan) > 0


def test_three_hour_plan_is_a_conversation() -> None:
    plan = plan_speech(2024, 3 * HOUR)
    talking = _talking_ms(_union(plan))
    holds = [silence for silence in _silences(plan) if silence >= 5_000]
    assert 0.4 < talking / plan.duration_ms < 0.9
    assert 5 <= len(holds) <= 100
    assert len(plan.customer) > 1_000
    assert len(plan.agent) > 1_000
    assert max(end for segments in _speech(plan) for _, end in segments) <= plan.duration_ms


def test_empty_call_has_no_speech() -> None:
    assert plan_speech(1, 0) == SpeechPlan(duration_ms=0, customer=(), agent=())


def test_negative_duration_is_rejected() -> None:
    with pytest.raises(ValueError, match="duration_ms"):
        plan_speech(1, -1)


# --- render ----------------------------------------------------------------------------------


@pytest.mark.parametrize("duration_ms", [1, 999, 7_301])
def test_render_has_exactly_the_call_length_in_two_int16_channels(duration_ms: int) -> None:
    samples = _render(plan_speech(3, duration_ms), 3)
    assert samples.dtype == np.int16
    assert samples.shape == (2, duration_ms * SAMPLE_RATE // 1000)


@pytest.mark.parametrize("chunk_ms", [1, 7, 333, 1_000, 2_500, 60_000])
def test_render_does_not_depend_on_chunk_size(chunk_ms: int) -> None:
    plan = plan_speech(9, 7_301)
    chunks = list(render_chunks(plan, 9, chunk_ms))
    assert all(chunk.shape[1] <= max(1, chunk_ms * SAMPLE_RATE // 1000) for chunk in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks, axis=1), _render(plan, 9))


def test_render_depends_on_the_seed() -> None:
    plan = plan_speech(9, 3_000)
    assert not np.array_equal(_render(plan, 9), _render(plan, 10))


def test_render_rejects_chunks_shorter_than_a_sample() -> None:
    with pytest.raises(ValueError, match="chunk_ms"):
        next(render_chunks(plan_speech(1, 1_000), 1, 0))


def test_render_of_a_long_call_holds_one_chunk_at_a_time() -> None:
    plan = plan_speech(4, 10 * MINUTE)
    whole_call_bytes = 2 * plan.duration_ms * SAMPLE_RATE // 1000 * 2
    tracemalloc.start()
    try:
        lengths = [chunk.shape[1] for chunk in render_chunks(plan, 4, 10_000)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(lengths) == plan.duration_ms * SAMPLE_RATE // 1000
    assert max(lengths) == 80_000
    assert peak < whole_call_bytes / 2


def test_render_speaks_at_about_minus_20_dbfs_over_a_floor_near_minus_65() -> None:
    plan = plan_speech(8, 40_000)
    samples = _render(plan, 8) / 32768
    for channel, segments in enumerate(_speech(plan)):
        speech = _windows(samples[channel], SAMPLE_RATE, _inside(segments, 50))
        floor = _windows(samples[channel], SAMPLE_RATE, _pauses(plan, 50))
        assert -25 < 20 * np.log10(_rms(speech)) < -15
        assert -68 < 20 * np.log10(_rms(floor)) < -62


# --- encode ----------------------------------------------------------------------------------


def test_formats_are_the_genesys_recording_formats() -> None:
    table = {key: (f.format_id, f.content_type, f.extension) for key, f in FORMATS.items()}
    assert table == {
        "WAV": ("WAV", "audio/wav", "wav"),
        "WEBM": ("WEBM", "audio/webm", "webm"),
        "WAV_ULAW": ("WAV_ULAW", "audio/wav", "wav"),
        "OGG_VORBIS": ("OGG_VORBIS", "audio/ogg", "ogg"),
        "OGG_OPUS": ("OGG_OPUS", "audio/ogg", "opus"),
        "MP3": ("MP3", "audio/mpeg", "mp3"),
    }


@pytest.mark.parametrize("format_id", list(FORMATS))
# 381 ms once decoded to nothing from Ogg Vorbis: its first audio page was also its last.
@pytest.mark.parametrize("duration_ms", [1, 381, 1_000, 3_217])
def test_encoded_call_decodes_to_two_channels_of_the_call_duration(
    format_id: str, duration_ms: int
) -> None:
    samples, rate = _decode(_encoded(plan_speech(6, duration_ms), 6, format_id))
    assert samples.shape[0] == 2
    assert abs(samples.shape[1] * 1000 / rate - duration_ms) <= 80


@pytest.fixture(scope="module")
def digests_from_other_processes() -> list[dict[str, str]]:
    script = (
        "import hashlib, io, json\n"
        "from genesys_emulator.audio import FORMATS, encode, plan_speech\n"
        "digests = {}\n"
        "for format_id in FORMATS:\n"
        "    sink = io.BytesIO()\n"
        "    encode(plan_speech(11, 2_500), 11, format_id, sink)\n"
        "    digests[format_id] = hashlib.sha256(sink.getvalue()).hexdigest()\n"
        "print(json.dumps(digests))\n"
    )
    source_root = str(Path(audio.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [source_root, os.environ.get("PYTHONPATH")]))
    runs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, check=True, text=True
        )
        runs.append(json.loads(done.stdout))
    return runs


@pytest.mark.parametrize("format_id", list(FORMATS))
def test_encoding_is_byte_identical_across_processes(
    format_id: str, digests_from_other_processes: list[dict[str, str]]
) -> None:
    here = hashlib.sha256(_encoded(plan_speech(11, 2_500), 11, format_id)).hexdigest()
    assert [run[format_id] for run in digests_from_other_processes] == [here, here]


@pytest.mark.parametrize("format_id", list(FORMATS))
def test_encoded_files_carry_no_library_versions(format_id: str) -> None:
    data = _encoded(plan_speech(11, 1_000), 11, format_id)
    assert re.search(rb"Lav[fc]\d+\.", data) is None


@pytest.mark.parametrize("format_id", list(FORMATS))
def test_decoded_speech_is_far_louder_than_the_pauses(format_id: str) -> None:
    plan = plan_speech(8, 40_000)
    samples, rate = _decode(_encoded(plan, 8, format_id))
    pauses = _pauses(plan, 150)
    assert sum(end - start for start, end in pauses) > 3_000
    for channel, segments in enumerate(_speech(plan)):
        speech = _windows(samples[channel], rate, _inside(segments, 100))
        quiet = _windows(samples[channel], rate, pauses)
        assert _rms(speech) > 10 * _rms(quiet)


def test_customer_is_left_and_agent_is_right() -> None:
    plan = plan_speech(8, 40_000)
    samples, rate = _decode(_encoded(plan, 8, "WAV"))
    customer_only = [
        (start, end)
        for start, end in _inside(plan.customer, 100)
        if all(end + 100 < a_start or a_end + 100 < start for a_start, a_end in plan.agent)
    ]
    assert customer_only
    left = _windows(samples[0], rate, customer_only)
    right = _windows(samples[1], rate, customer_only)
    assert _rms(left) > 100 * _rms(right)


def test_unknown_format_is_rejected_with_the_valid_ones() -> None:
    with pytest.raises(
        ValueError, match=r"'FLAC'.*WAV, WEBM, WAV_ULAW, OGG_VORBIS, OGG_OPUS, MP3$"
    ):
        encode(plan_speech(1, 1_000), 1, "FLAC", io.BytesIO())


# --- cache -----------------------------------------------------------------------------------


def test_cache_encodes_on_first_request_only(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path)
    plan = plan_speech(12, 2_000)
    first = cache.get("rec-1", plan, 12, "MP3")
    written = first.path.stat()
    second = cache.get("rec-1", plan, 12, "MP3")
    assert second == first
    assert (first.path.stat().st_mtime_ns, first.path.stat().st_ino) == (
        written.st_mtime_ns,
        written.st_ino,
    )
    assert first.path.read_bytes() == _encoded(plan, 12, "MP3")
    assert first.sha256 == hashlib.sha256(first.path.read_bytes()).hexdigest()
    assert first.size == written.st_size
    assert first.content_type == "audio/mpeg"
    assert [path.name for path in tmp_path.iterdir()] == [first.path.name]


def test_cache_reuses_files_left_by_an_earlier_process(tmp_path: Path) -> None:
    plan = plan_speech(12, 2_000)
    before = MediaCache(tmp_path).get("rec-1", plan, 12, "WAV")
    mtime = before.path.stat().st_mtime_ns
    after = MediaCache(tmp_path).get("rec-1", plan, 12, "WAV")
    assert after == before
    assert after.path.stat().st_mtime_ns == mtime


def test_cache_keeps_formats_apart_even_with_the_same_extension(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path)
    plan = plan_speech(12, 1_000)
    pcm = cache.get("rec-1", plan, 12, "WAV")
    ulaw = cache.get("rec-1", plan, 12, "WAV_ULAW")
    assert pcm.path != ulaw.path
    assert pcm.sha256 != ulaw.sha256


def test_cache_serves_concurrent_requests_one_file(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path)
    plan = plan_speech(13, 3_000)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: cache.get("rec-2", plan, 13, "OGG_OPUS"), range(16)))
    assert all(result == results[0] for result in results)
    assert [path.name for path in tmp_path.iterdir()] == [results[0].path.name]


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/b", "a_b", "récording 1", ".hidden", ""])
def test_cache_file_names_stay_in_the_directory(tmp_path: Path, key: str) -> None:
    media = MediaCache(tmp_path).get(key, plan_speech(1, 1_000), 1, "WAV")
    assert media.path.parent == tmp_path
    assert not media.path.name.startswith(".")


def test_cache_keeps_keys_apart_that_sanitise_alike(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path)
    plan = plan_speech(1, 1_000)
    assert cache.get("a/b", plan, 1, "WAV").path != cache.get("a_b", plan, 1, "WAV").path


def test_cache_rejects_unknown_formats(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown recording format"):
        MediaCache(tmp_path).get("rec-1", plan_speech(1, 1_000), 1, "AAC")
