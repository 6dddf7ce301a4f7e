"""Analysing a recording: decoding with PyAV and per-channel voice activity, on synthetic audio."""

from __future__ import annotations

import concurrent.futures
import math
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from callarchive.analysis import UndecodableMediaError, analyse, decoding
from callarchive.analysis.decoding import BLOCK_SECONDS, TELEPHONE_RATE, Decoded, chunks
from callarchive.analysis.voice import Framer
from tests.analysis.synthetic import signal, write

CUSTOMER = [(0.5, 3.0), (6.0, 9.5)]
AGENT = [(2.5, 5.0), (12.0, 13.0)]
SECONDS = 15.0


def near(value: float, expected: float, tolerance: float = 0.1) -> bool:
    """Equal but for a frame or two at each edge of the spans (tones start hard, speech fades)."""
    return abs(value - expected) <= tolerance


@pytest.mark.parametrize(
    ("rate", "container", "codec"),
    [
        (8000, "wav", "pcm_s16le"),
        (8000, "wav", "pcm_mulaw"),
        (8000, "wav", "pcm_u8"),
        (16000, "wav", "pcm_f32le"),
        (48000, "ogg", "libopus"),
        (8000, "mp3", "libmp3lame"),
    ],
)
def test_speech_spans_are_found_per_channel(
    tmp_path: Path, rate: int, container: str, codec: str
) -> None:
    path = write(
        tmp_path / f"call.{container}",
        signal([CUSTOMER, AGENT], SECONDS, rate=rate),
        rate=rate,
        container=container,
        codec=codec,
    )
    figures = analyse(path).figures
    assert near(figures.media_seconds, SECONDS, 0.01)
    assert figures.channels == 2
    assert near(figures.customer_speech_s, 6.0)
    assert figures.agent_speech_s is not None
    assert near(figures.agent_speech_s, 3.5)
    assert near(figures.speech_s, 9.0)  # 0.5..5, 6..9.5 and 12..13
    assert near(figures.talkover_s, 0.5)
    assert near(figures.longest_silence_s, 2.5)  # 9.5..12


def test_pauses_between_syllables_do_not_split_speech(tmp_path: Path) -> None:
    syllables = [(1.0 + 0.25 * i, 1.15 + 0.25 * i) for i in range(8)]  # 100 ms gaps
    path = write(tmp_path / "call.wav", signal([syllables, []], 4.0))
    figures = analyse(path).figures
    assert near(figures.speech_s, 1.9)
    assert near(figures.longest_silence_s, 1.1)  # after the last syllable, not between them


def test_clicks_are_not_speech(tmp_path: Path) -> None:
    clicks = [(1.0, 1.03), (2.0, 2.02)]
    figures = analyse(write(tmp_path / "call.wav", signal([clicks, []], 3.0))).figures
    assert figures.speech_s == 0.0


@pytest.mark.parametrize("noise_dbfs", [-70.0, -55.0, -45.0])
def test_the_threshold_follows_the_line_noise(tmp_path: Path, noise_dbfs: float) -> None:
    path = write(tmp_path / "call.wav", signal([CUSTOMER, AGENT], SECONDS, noise_dbfs=noise_dbfs))
    figures = analyse(path).figures
    assert near(figures.speech_s, 9.0, 0.1)


def test_quiet_speech_is_still_speech(tmp_path: Path) -> None:
    path = write(tmp_path / "call.wav", signal([CUSTOMER, AGENT], SECONDS, level_dbfs=-40.0))
    assert near(analyse(path).figures.speech_s, 9.0, 0.1)


def test_a_mono_recording_is_the_customer_channel(tmp_path: Path) -> None:
    figures = analyse(write(tmp_path / "call.wav", signal([CUSTOMER], SECONDS))).figures
    assert figures.channels == 1
    assert near(figures.customer_speech_s, 6.0)
    assert figures.agent_speech_s is None


def test_the_waveform_shows_where_each_channel_speaks(tmp_path: Path) -> None:
    analysis = analyse(write(tmp_path / "call.wav", signal([CUSTOMER, AGENT], SECONDS)))
    waveform = analysis.waveform
    assert len(waveform.channels) == 2
    step = waveform.seconds_per_peak
    assert near(step * len(waveform.channels[0]), SECONDS, step)
    loud = [[high > 0.05 for _, high in channel] for channel in waveform.channels]
    assert loud[0][round(1.0 / step)]
    assert not loud[0][round(11.0 / step)]
    assert loud[1][round(12.5 / step)]
    assert not loud[1][round(1.0 / step)]
    assert all(-1.0 <= low <= 0.0 <= high <= 1.0 for low, high in waveform.channels[0])


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00\x00\x00WAVEjunk", bytes(range(256)) * 40])
def test_what_cannot_be_decoded_raises_undecodable_media(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.wav"
    path.write_bytes(content)
    with pytest.raises(UndecodableMediaError):
        analyse(path)


def test_a_file_without_audio_samples_is_undecodable(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    with wave.open(str(path), "wb") as empty:  # a valid header and no samples
        empty.setnchannels(2)
        empty.setsampwidth(2)
        empty.setframerate(8000)
    with pytest.raises(UndecodableMediaError, match="no audio"):
        analyse(path)


@pytest.mark.parametrize(
    ("rate", "container", "codec"),
    [(8000, "wav", "pcm_mulaw"), (16000, "wav", "pcm_f32le"), (48000, "ogg", "libopus")],
)
def test_chunks_are_whole_two_second_blocks_whatever_the_packets(
    tmp_path: Path, rate: int, container: str, codec: str
) -> None:
    """The voice detector's thresholds follow blocks: cut at whole blocks, not at packets
    (WAV packets of 64 KiB hold four seconds of mu-law, Opus packets 20 ms)."""
    path = write(
        tmp_path / f"call.{container}",
        signal([CUSTOMER, AGENT], SECONDS, rate=rate),
        rate=rate,
        container=container,
        codec=codec,
    )
    decoded = Decoded()
    found = list(chunks(path, decoded))
    per_block = round(BLOCK_SECONDS * TELEPHONE_RATE)
    blocks = [size for chunk in found for size in chunk.blocks]
    assert blocks[:-1] == [per_block] * (len(blocks) - 1)
    assert 0 < blocks[-1] <= per_block
    assert [chunk.samples.shape[1] for chunk in found] == [sum(c.blocks) for c in found]
    assert all(chunk.samples.shape[1] <= decoding.CHUNK_SAMPLES for chunk in found)
    assert sum(blocks) == pytest.approx(decoded.samples * TELEPHONE_RATE / decoded.rate, abs=1)


@pytest.mark.parametrize(("rate", "channels"), [(8000, 2), (11025, 1), (33075, 2)])
def test_the_analysis_does_not_depend_on_the_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rate: int, channels: int
) -> None:
    """Chunks only batch numpy's work: one block a chunk gives the same figures and waveform
    to the bit as chunks of many, at rates whose blocks do not hold whole frames (11,025 Hz:
    frames of 110 samples, blocks of 22,050) or whose thinning is uneven (33,075 Hz: every
    fourth sample, blocks of 66,150 keep 16,537 or 16,538)."""
    spans = [
        [(0.5 + 7 * i, 4.0 + 7 * i) for i in range(6)],
        [(3.5 + 7 * i, 6.0 + 7 * i) for i in range(6)],
    ]
    samples = signal(spans[:channels], 41.3, rate=rate, level_dbfs=-35, noise_dbfs=-58)
    # A level swinging by 30 dB every 13 s, so each block's threshold differs from the next.
    swing = 15 * np.sin(2 * np.pi * np.arange(samples.shape[1]) / rate / 13) - 5
    path = write(tmp_path / "call.wav", samples * 10 ** (swing / 20), rate=rate)
    monkeypatch.setattr(decoding, "CHUNK_SAMPLES", 2**20)
    chunked = analyse(path)
    blocks = math.ceil(41.3 / BLOCK_SECONDS)  # 20 of two seconds and one shorter
    assert len(list(chunks(path, Decoded()))) < blocks
    monkeypatch.setattr(decoding, "CHUNK_SAMPLES", 1)
    assert len(list(chunks(path, Decoded()))) == blocks
    block_by_block = analyse(path)
    assert chunked.figures == block_by_block.figures
    assert chunked.waveform.to_bytes() == block_by_block.waveform.to_bytes()
    assert chunked.figures.speech_s > 5


def test_one_analysis_after_another_reuses_the_arrays_and_keeps_nothing_of_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The arrays chunks are decoded into are kept from one analysis to the next (no new
    megabyte arrays per chunk); whatever came before, a recording's figures and waveform are
    those of a first analysis."""
    monkeypatch.setattr(decoding, "_spare", [])
    recordings = [
        write(tmp_path / "stereo.wav", signal([CUSTOMER, AGENT], 41.0), codec="pcm_mulaw"),
        write(tmp_path / "mono.wav", signal([AGENT], 23.3, rate=11025), rate=11025),
        write(tmp_path / "u8.wav", signal([AGENT, CUSTOMER], 19.0), codec="pcm_u8"),
        write(
            tmp_path / "opus.ogg",
            signal([CUSTOMER, AGENT], 17.0, rate=48000),
            rate=48000,
            container="ogg",
            codec="libopus",
        ),
    ]
    first = {}
    for path in recordings:
        decoding._spare.clear()
        analysis = analyse(path)
        first[path.name] = (analysis.figures, analysis.waveform.to_bytes())
    for path in [*recordings, *reversed(recordings)]:
        analysis = analyse(path)
        assert (analysis.figures, analysis.waveform.to_bytes()) == first[path.name], path.name
    assert len(decoding._spare) == 1  # one analysis at a time: one set of arrays

    held = decoding.Buffers()
    found = chunks(recordings[0], Decoded(), held)
    one, two = next(found).samples, next(found).samples
    assert np.shares_memory(one, two)  # the second chunk overwrote the first


def test_analyses_in_several_threads_do_not_share_arrays(tmp_path: Path) -> None:
    """The import analyses up to four recordings at once, each in its own worker thread."""
    paths = [
        write(tmp_path / f"call{i}.wav", signal([CUSTOMER, AGENT][:: 1 - 2 * (i % 2)], 30.0 + i))
        for i in range(8)
    ]
    alone = [analyse(path).figures for path in paths]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda path: analyse(path).figures, paths * 3))
    assert together == alone * 3


def test_audio_that_changes_its_channels_midway_is_undecodable() -> None:
    """Nothing is mixed into the wrong channel: the decoder's frames must keep one layout."""
    frames = []
    for layout, channels in (("stereo", 2), ("mono", 1)):
        frame = av.AudioFrame.from_ndarray(
            np.zeros((channels, 4000), np.int16), format="s16p", layout=layout
        )
        frame.sample_rate = 8000
        frames.append(frame)
    with pytest.raises(UndecodableMediaError, match="changes its sample format or channels"):
        list(decoding._chunks(iter(frames), Decoded(), decoding.Buffers()))


def test_the_framer_keeps_its_own_copy_of_what_waits_for_the_next_chunk() -> None:
    """Chunks come in arrays that the next chunk overwrites; a frame that straddles two
    chunks (110 samples at 11,025 Hz, chunks of 1,000) is measured on the samples it had."""
    first, second = np.random.default_rng(3).standard_normal((2, 2, 1000)).astype(np.float32)
    apart = Framer()
    expected = [apart.push(first.copy(), 11025, (1000,)), apart.push(second.copy(), 11025, (1000,))]
    shared = np.empty((2, 1000), np.float32)
    framer = Framer()
    found = []
    for samples in (first, second):
        shared[:] = samples
        found.append(framer.push(shared, 11025, (1000,)))
    for got, want in zip(found, expected, strict=True):
        assert np.array_equal(got.levels, want.levels)
        assert np.array_equal(got.lows, want.lows)
        assert np.array_equal(got.highs, want.highs)
