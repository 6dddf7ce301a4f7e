"""Synthetic call audio: the sound of the emulator's recordings.

A call is planned as ground-truth speech segments per channel (customer left, agent right) from a
seed, rendered as a deterministic speech-like stereo signal at telephone rate, and encoded with
PyAV in every Genesys recording format. Everything is a pure function of ``(plan, seed)``: the
same recording always has the same samples and, thanks to bit-exact encoder settings, the same
bytes. Encoded files are kept on disk by a :class:`MediaCache`.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import math
import os
import random
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream

__all__ = [
    "FORMATS",
    "SAMPLE_RATE",
    "EncodedMedia",
    "MediaCache",
    "MediaFormat",
    "SpeechPlan",
    "encode",
    "plan_speech",
    "render_chunks",
]

SAMPLE_RATE: int = 8000  # telephony

Segment = tuple[int, int]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True, slots=True)
class SpeechPlan:
    """Ground-truth speech segments per channel, in milliseconds from the start of the recording."""

    duration_ms: int
    customer: tuple[Segment, ...]  # channel 0 (left)
    agent: tuple[Segment, ...]  # channel 1 (right)


# --- planning ---------------------------------------------------------------------------------

_MIN_UTTERANCE_MS = 400
_MAX_UTTERANCE_MS = 6000
_MIN_GAP_MS = 200
_MAX_GAP_MS = 3000
_MAX_OPENING_MS = 1500
_HOLD_MS = (5000, 20_000)
_HOLD_MIN_CALL_MS = 60_000
_HOLD_PROBABILITY = 0.015
_INTERRUPT_PROBABILITY = 0.12
_INTERRUPT_MS = (200, 1000)
_BACKCHANNEL_PROBABILITY = 0.2
_BACKCHANNEL_MS = (400, 900)


def plan_speech(seed: int, duration_ms: int) -> SpeechPlan:
    """Plan who speaks when: alternating turns with gaps, interruptions, backchannels and holds.

    Deterministic in ``(seed, duration_ms)``. Every call of at least one millisecond has an
    utterance; segments are sorted, disjoint within a channel and inside ``[0, duration_ms]``.
    """
    if duration_ms < 0:
        raise ValueError(f"duration_ms must be >= 0, got {duration_ms}")
    rng = random.Random(seed)
    channels: tuple[list[Segment], list[Segment]] = ([], [])
    speaker = rng.randrange(2)
    start = min(rng.randint(_MIN_GAP_MS, _MAX_OPENING_MS), duration_ms - _MIN_UTTERANCE_MS)
    start = max(start, 0)
    while start < duration_ms and (start + _MIN_UTTERANCE_MS <= duration_ms or start == 0):
        end = min(start + _utterance_ms(rng), duration_ms)
        channels[speaker].append((start, end))
        _maybe_backchannel(rng, channels[1 - speaker], (start, end))
        speaker = 1 - speaker
        start = _next_turn_start(rng, (start, end), duration_ms)
        if channels[speaker]:
            start = max(start, channels[speaker][-1][1] + _MIN_GAP_MS)
    return SpeechPlan(
        duration_ms=duration_ms, customer=tuple(channels[0]), agent=tuple(channels[1])
    )


def _utterance_ms(rng: random.Random) -> int:
    # Skewed towards short utterances, as in conversation.
    span = _MAX_UTTERANCE_MS - _MIN_UTTERANCE_MS
    return _MIN_UTTERANCE_MS + round(span * math.pow(rng.random(), 1.6))


def _next_turn_start(rng: random.Random, turn: Segment, duration_ms: int) -> int:
    start, end = turn
    roll = rng.random()
    if roll < _HOLD_PROBABILITY and duration_ms >= _HOLD_MIN_CALL_MS:
        hold = rng.randint(*_HOLD_MS)
        if end + hold + _MIN_UTTERANCE_MS <= duration_ms:
            return end + hold
    if roll < _HOLD_PROBABILITY + _INTERRUPT_PROBABILITY:
        overlap = min(rng.randint(*_INTERRUPT_MS), (end - start) // 2)
        return end - overlap
    return end + _MIN_GAP_MS + round((_MAX_GAP_MS - _MIN_GAP_MS) * rng.random() ** 2)


def _maybe_backchannel(rng: random.Random, listener: list[Segment], turn: Segment) -> None:
    """Let the listener say "mhm" inside a long enough turn, if it is free by then."""
    if rng.random() >= _BACKCHANNEL_PROBABILITY:
        return
    length = rng.randint(*_BACKCHANNEL_MS)
    earliest = turn[0] + 300
    if listener:
        earliest = max(earliest, listener[-1][1] + _MIN_GAP_MS)
    latest = turn[1] - 300 - length
    if earliest <= latest:
        start = rng.randint(earliest, latest)
        listener.append((start, start + length))


# --- formats ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class MediaFormat:
    """A Genesys recording format (``formatId``) and how it is served."""

    format_id: str
    content_type: str
    extension: str


@dataclass(frozen=True, kw_only=True, slots=True)
class _Encoder:
    container: str
    codec: str
    bit_rate: int
    options: Mapping[str, str]
    muxer_options: Mapping[str, str] = field(default_factory=dict)


FORMATS: Mapping[str, MediaFormat] = MappingProxyType(
    {
        media.format_id: media
        for media in (
            MediaFormat(format_id="WAV", content_type="audio/wav", extension="wav"),
            MediaFormat(format_id="WEBM", content_type="audio/webm", extension="webm"),
            MediaFormat(format_id="WAV_ULAW", content_type="audio/wav", extension="wav"),
            MediaFormat(format_id="OGG_VORBIS", content_type="audio/ogg", extension="ogg"),
            MediaFormat(format_id="OGG_OPUS", content_type="audio/ogg", extension="opus"),
            MediaFormat(format_id="MP3", content_type="audio/mpeg", extension="mp3"),
        )
    }
)

# "+bitexact" keeps library versions out of headers; without it the Ogg muxer also draws random
# stream serial numbers and Matroska a random segment UID, so the bytes would differ per run.
_BITEXACT = {"flags": "+bitexact"}
_OPUS = {**_BITEXACT, "application": "voip"}
_ENCODERS: Mapping[str, _Encoder] = MappingProxyType(
    {
        "WAV": _Encoder(container="wav", codec="pcm_s16le", bit_rate=0, options=_BITEXACT),
        "WAV_ULAW": _Encoder(container="wav", codec="pcm_mulaw", bit_rate=0, options=_BITEXACT),
        "WEBM": _Encoder(container="webm", codec="libopus", bit_rate=24_000, options=_OPUS),
        "OGG_OPUS": _Encoder(container="ogg", codec="libopus", bit_rate=24_000, options=_OPUS),
        # libvorbis is not in PyAV's FFmpeg build; the native encoder is flagged experimental and
        # ignores bit_rate. Its default quality spends ~75 kbit/s on 8 kHz stereo; quality 1
        # (global_quality is in lambda units of 118 per step) gives ~27 kbit/s like the others.
        "OGG_VORBIS": _Encoder(
            container="ogg",
            codec="vorbis",
            bit_rate=0,
            options={
                "flags": "+bitexact+qscale",
                "global_quality": "118",
                "strict": "experimental",
            },
            # FFmpeg's Ogg demuxer cannot trim Vorbis padding (up to 128 ms here) when the first
            # audio page is also the last; short pages keep calls under a second exact.
            muxer_options={"page_duration": "100000"},
        ),
        "MP3": _Encoder(container="mp3", codec="libmp3lame", bit_rate=32_000, options=_BITEXACT),
    }
)


def _media_format(format_id: str) -> MediaFormat:
    try:
        return FORMATS[format_id]
    except KeyError:
        valid = ", ".join(FORMATS)
        raise ValueError(f"unknown recording format {format_id!r}; use one of {valid}") from None


# --- rendering --------------------------------------------------------------------------------

# Samples are computed in fixed blocks aligned to the start of the call, so each sample is the
# result of the same floating-point operations whatever chunk size the caller asks for.
_BLOCK = SAMPLE_RATE
_SPEECH_DBFS = (-23.0, -17.0)
_NOISE_RMS = 10 ** (-65 / 20)
_F0_RANGE = (100.0, 260.0)
_TOP_HARMONIC_HZ = 3600.0
_VOWELS = np.array(  # F1, F2, F3 in Hz (Peterson & Barney averages)
    [[730, 1090, 2440], [530, 1840, 2480], [270, 2290, 3010], [570, 840, 2410], [300, 870, 2240]],
    dtype=np.float64,
)
_FORMANT_BANDWIDTHS = np.array([90.0, 110.0, 170.0])
_ENVELOPE_FLOOR = 0.15
_NOISE_STREAM, _VOICE_STREAM, _SEGMENT_STREAM = 1, 2, 3


@dataclass(frozen=True, kw_only=True, slots=True)
class _Utterance:
    """Synthesis parameters of one speech segment; time is in seconds from its start."""

    length: float
    f0: float
    declination: float
    intonation_depth: float
    intonation_rate: float
    intonation_phase: float
    syllable_rate: float
    syllable_phase: float
    gain: float
    fade: float
    spectra: npt.NDArray[np.complex128]  # (2, harmonics): two vowel colourings to move between


def render_chunks(plan: SpeechPlan, seed: int, chunk_ms: int = 10_000) -> Iterator[np.ndarray]:
    """Yield the call as int16 arrays shaped ``(2, n)``: channel 0 customer, 1 agent.

    The chunks add up to exactly ``duration_ms * SAMPLE_RATE // 1000`` samples; only one chunk
    and one block are in memory at a time.
    """
    chunk = chunk_ms * SAMPLE_RATE // 1000
    if chunk <= 0:
        raise ValueError(f"chunk_ms must give at least one sample, got {chunk_ms}")
    pending: list[npt.NDArray[np.int16]] = []
    buffered = 0
    for block in _blocks(plan, seed):
        pending.append(block)
        buffered += block.shape[1]
        while buffered >= chunk:
            joined = np.concatenate(pending, axis=1)
            yield joined[:, :chunk]
            pending, buffered = [joined[:, chunk:]], buffered - chunk
    if buffered:
        yield np.concatenate(pending, axis=1)


def _blocks(plan: SpeechPlan, seed: int) -> Iterator[npt.NDArray[np.int16]]:
    total = plan.duration_ms * SAMPLE_RATE // 1000
    for index, first in enumerate(range(0, total, _BLOCK)):
        span = (first, min(first + _BLOCK, total))
        signal = _noise(seed, index, span[1] - span[0])
        for channel, segments in enumerate((plan.customer, plan.agent)):
            _add_speech(signal[channel], seed, channel, segments, span)
        yield np.rint(np.clip(signal, -1.0, 1.0) * 32767.0).astype(np.int16)


def _noise(seed: int, block: int, length: int) -> FloatArray:
    rng = np.random.default_rng(_entropy(seed, _NOISE_STREAM, block))
    return rng.standard_normal((2, length)) * _NOISE_RMS


def _add_speech(
    out: FloatArray, seed: int, channel: int, segments: tuple[Segment, ...], span: Segment
) -> None:
    index = bisect.bisect_right(segments, span[0], key=lambda segment: _sample(segment[1]))
    while index < len(segments) and _sample(segments[index][0]) < span[1]:
        start, end = _sample(segments[index][0]), _sample(segments[index][1])
        first, last = max(start, span[0]), min(end, span[1])
        if first < last:
            utterance = _utterance(seed, channel, index, (end - start) / SAMPLE_RATE)
            t = np.arange(first - start, last - start, dtype=np.float64) / SAMPLE_RATE
            out[first - span[0] : last - span[0]] += _voiced(utterance, t)
        index += 1


def _sample(ms: int) -> int:
    return ms * SAMPLE_RATE // 1000


def _entropy(seed: int, *parts: int) -> list[int]:
    return [seed % 2**64, *parts]


@functools.lru_cache(maxsize=16)
def _voice_f0(seed: int, channel: int) -> float:
    """Each side of the call keeps one voice: its typical pitch."""
    rng = np.random.default_rng(_entropy(seed, _VOICE_STREAM, channel))
    return float(rng.choice([rng.uniform(105, 145), rng.uniform(175, 225)]))


@functools.lru_cache(maxsize=64)
def _utterance(seed: int, channel: int, index: int, length: float) -> _Utterance:
    rng = np.random.default_rng(_entropy(seed, _SEGMENT_STREAM, channel, index))
    declination, depth = rng.uniform(0.0, 0.15), rng.uniform(0.03, 0.12)
    lowest, highest = _F0_RANGE[0] / (1 - declination - depth), _F0_RANGE[1] / (1 + depth)
    f0 = float(np.clip(_voice_f0(seed, channel) * rng.uniform(0.9, 1.1), lowest, highest))
    harmonics = int(_TOP_HARMONIC_HZ // (f0 * (1 + depth)))
    vowels = _VOWELS[rng.choice(len(_VOWELS), size=2, replace=False)]
    phases = np.exp(1j * rng.uniform(0, 2 * np.pi, size=(2, harmonics)))
    level = 10 ** (rng.uniform(*_SPEECH_DBFS) / 20)
    return _Utterance(
        length=length,
        f0=f0,
        declination=float(declination),
        intonation_depth=float(depth),
        intonation_rate=float(rng.uniform(0.3, 1.2)),
        intonation_phase=float(rng.uniform(0, 2 * np.pi)),
        syllable_rate=float(rng.uniform(4.0, 5.0)),
        syllable_phase=float(rng.uniform(0, 2 * np.pi)),
        gain=level / _ENVELOPE_RMS,
        fade=float(rng.uniform(0.015, 0.03)),
        spectra=_vowel_weights(f0, harmonics, vowels) * phases,
    )


def _vowel_weights(f0: float, harmonics: int, vowels: FloatArray) -> FloatArray:
    """Harmonic amplitudes: a -6 dB/octave source shaped by formants and the telephone band."""
    frequency = f0 * np.arange(1, harmonics + 1, dtype=np.float64)
    detuning = (frequency[None, None, :] - vowels[:, :, None]) / _FORMANT_BANDWIDTHS[None, :, None]
    formants = (1.0 / (1.0 + detuning**2)).sum(axis=1)
    band = 1.0 / np.sqrt((1 + (300 / frequency) ** 4) * (1 + (frequency / 3400) ** 8))
    weights = (0.2 + formants) * band / np.arange(1, harmonics + 1)
    # Unit RMS for the sum of sinusoids, so the gain alone sets the level.
    normalised: FloatArray = weights / np.sqrt((weights**2).sum(axis=1, keepdims=True) / 2)
    return normalised


def _voiced(u: _Utterance, t: FloatArray) -> FloatArray:
    """Harmonics of a gliding f0, moving between two vowels once per two syllables."""
    z = np.exp(1j * _f0_phase(u, t))
    power = np.ones_like(z)
    mixed = np.zeros((2, t.size), dtype=np.complex128)
    # Powers by repeated multiplication: one complex product per harmonic instead of a sin/cos.
    for k in range(u.spectra.shape[1]):
        power *= z
        mixed += u.spectra[:, k : k + 1] * power
    vowel = 0.5 - 0.5 * np.cos(np.pi * u.syllable_rate * t + u.syllable_phase)
    carrier: FloatArray = ((1 - vowel) * mixed[0] + vowel * mixed[1]).imag
    return carrier * _envelope(u, t)


def _f0_phase(u: _Utterance, t: FloatArray) -> FloatArray:
    """Integral of f0(t) = f0·(1 - declination·t/length + depth·sin(2π·rate·t + phase))."""
    w = 2 * np.pi * u.intonation_rate
    glide = t - u.declination * t**2 / (2 * u.length)
    wobble = (np.cos(u.intonation_phase) - np.cos(w * t + u.intonation_phase)) / w
    phase: FloatArray = 2 * np.pi * u.f0 * (glide + u.intonation_depth * wobble)
    return phase


def _envelope(u: _Utterance, t: FloatArray) -> FloatArray:
    syllables = _syllables(2 * np.pi * u.syllable_rate * t + u.syllable_phase)
    edges = np.clip(np.minimum(t, u.length - t) / u.fade, 0.0, 1.0)
    fade = 0.5 - 0.5 * np.cos(np.pi * edges)
    return u.gain * syllables * fade


def _syllables(phase: FloatArray) -> FloatArray:
    return _ENVELOPE_FLOOR + (1 - _ENVELOPE_FLOOR) * (0.5 - 0.5 * np.cos(phase)) ** 1.5


_ENVELOPE_RMS = float(np.sqrt(np.mean(_syllables(np.linspace(0, 2 * np.pi, 1000)) ** 2)))


# --- encoding ---------------------------------------------------------------------------------


def encode(plan: SpeechPlan, seed: int, format_id: str, sink: BinaryIO) -> None:
    """Write the call to ``sink`` in a Genesys recording format, byte-for-byte reproducibly.

    ``sink`` should be seekable: WAV, WebM and MP3 rewrite their headers at the end.
    """
    _media_format(format_id)
    encoder = _ENCODERS[format_id]
    muxer_options = {"fflags": "+bitexact", **encoder.muxer_options}
    with av.open(
        sink, mode="w", format=encoder.container, container_options=muxer_options
    ) as container:
        stream = container.add_stream(
            encoder.codec, rate=SAMPLE_RATE, options=dict(encoder.options)
        )
        if not isinstance(stream, AudioStream):
            raise TypeError(f"{encoder.codec} is not an audio codec")
        stream.codec_context.layout = "stereo"
        stream.codec_context.bit_rate = encoder.bit_rate
        pts = 0
        for chunk in render_chunks(plan, seed):
            container.mux(stream.encode(_frame(chunk, pts)))
            pts += chunk.shape[1]
        container.mux(stream.encode(None))


def _frame(chunk: npt.NDArray[np.int16], pts: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="s16p", layout="stereo")
    frame.sample_rate = SAMPLE_RATE
    # Explicit timestamps let the muxers record the exact length, so decoders trim codec padding.
    frame.pts = pts
    frame.time_base = Fraction(1, SAMPLE_RATE)
    return frame


# --- cache ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class EncodedMedia:
    """A recording encoded on disk."""

    path: Path
    size: int
    sha256: str  # hex
    content_type: str


class MediaCache:
    """Encoded media on disk, keyed by (key, format_id); encodes on first request, thread-safe."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._media: dict[tuple[str, str], EncodedMedia] = {}

    def get(self, key: str, plan: SpeechPlan, seed: int, format_id: str) -> EncodedMedia:
        """Return the recording ``key`` in ``format_id``, encoding it from the plan if needed.

        ``key`` is trusted to identify ``(plan, seed)``: a cached file is never re-checked.
        """
        media_format = _media_format(format_id)
        slot = (key, format_id)
        with self._lock(slot):
            media = self._media.get(slot)
            if media is None:
                path = self._directory / _file_name(key, media_format)
                if not path.exists():
                    self._encode(path, plan, seed, format_id)
                media = _describe(path, media_format)
                self._media[slot] = media
            return media

    def _lock(self, slot: tuple[str, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(slot, threading.Lock())

    def _encode(self, path: Path, plan: SpeechPlan, seed: int, format_id: str) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=self._directory, prefix=".", suffix=".part")
        temporary = Path(name)
        try:
            with os.fdopen(descriptor, "w+b") as sink:
                encode(plan, seed, format_id, sink)
            temporary.replace(path)
        finally:
            temporary.unlink(missing_ok=True)


def _file_name(key: str, media_format: MediaFormat) -> str:
    # The digest keeps keys apart that sanitise to the same text ("a/b" and "a_b").
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", key)[:80]
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{safe}-{digest}.{media_format.format_id.lower()}.{media_format.extension}"


def _describe(path: Path, media_format: MediaFormat) -> EncodedMedia:
    with path.open("rb") as file:
        sha256 = hashlib.file_digest(file, "sha256").hexdigest()
    return EncodedMedia(
        path=path, size=path.stat().st_size, sha256=sha256, content_type=media_format.content_type
    )
