"""Streaming decode of a recording with PyAV into float chunks, one row per channel.

Decoded frames are gathered into chunks of whole two-second blocks (the voice detector's unit;
numpy works on chunks, not on 20 ms frames: a chunk holds up to `CHUNK_SAMPLES` samples a
channel) and thinned to the telephone band: decoders such as Opus always output 48 kHz, but
the energy of 8 kHz telephone audio is measured as well from every sixth sample. Only one
chunk is in memory at a time, whatever the length of the call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from callarchive.errors import SkipError

TELEPHONE_RATE = 8000  # the analysis needs no more than the telephone band
BLOCK_SECONDS = 2.0
# Source samples a channel decoded into one chunk at most, in whole blocks (always at least
# one): one block of 8 kHz audio, whose float32 samples of two channels (125 KiB) stay under
# glibc's threshold for giving memory back at once. Chunks of 128 Ki samples (8 blocks) made
# a `batch` import 1.6 times as fast, but raised a catch-up's peak RSS from 247 MB to 295:
# the first megabyte array freed raises that threshold, and the analysis threads' heaps keep
# what later ones free (BENCHMARKS.md, 2026-12-07, evening).
CHUNK_SAMPLES = 16_000
WAV_PACKET_BYTES = 64 * 1024

Samples = npt.NDArray[np.float32]


class UndecodableMediaError(SkipError):
    """The media cannot be decoded: no audio stream, a damaged file or an unknown codec."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Chunk:
    """Samples of every channel in [-1, 1] at `rate` (after thinning), shaped (channels, n);
    `blocks` are the samples of each of its two-second blocks (they add up to n)."""

    samples: Samples
    rate: float
    blocks: tuple[int, ...]


@dataclass(kw_only=True, slots=True)
class Decoded:
    """What the decoding saw so far: the source's rate, channels and samples per channel."""

    rate: int = 0
    channels: int = 0
    samples: int = 0

    @property
    def seconds(self) -> float:
        return self.samples / self.rate if self.rate else 0.0


_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "flt": 1.0, "dbl": 1.0}


def chunks(path: Path, decoded: Decoded) -> Iterator[Chunk]:
    """Yield the recording at `path` chunk by chunk; `decoded` is filled in on the way."""
    try:
        with av.open(str(path), options=_demuxer_options(path)) as container:
            if not container.streams.audio:
                raise UndecodableMediaError(f"{path.name} has no audio stream")
            stream = container.streams.audio[0]
            yield from _chunks(container.decode(stream), decoded)
    except (av.FFmpegError, ValueError) as error:
        raise UndecodableMediaError(f"{path.name} cannot be decoded: {error}") from error


def _demuxer_options(path: Path) -> dict[str, str]:
    """Larger packets for WAV: FFmpeg's WAV demuxer cuts 4 KiB packets by default (about a
    tenth of a second of telephone audio), and each costs a Python round trip here."""
    with path.open("rb") as file:
        head = file.read(12)
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return {"max_size": str(WAV_PACKET_BYTES)}
    return {}


def _chunks(frames: Iterator[Any], decoded: Decoded) -> Iterator[Chunk]:
    """Chunks of whole `BLOCK_SECONDS` blocks (the last one shorter), whatever the decoder's
    frame size: the voice detector's thresholds follow blocks, so the figures do not depend on
    how a container cuts its packets."""
    pending: list[npt.NDArray[Any]] = []  # (channels, n) arrays of raw samples
    have = 0  # samples per channel in `pending`
    first = 0  # the call's sample index where the pending samples start
    block = chunk = 0
    sample_format = ""
    for frame in frames:
        if not decoded.rate:
            decoded.rate = frame.sample_rate
            decoded.channels = len(frame.layout.channels)
            sample_format = frame.format.name.removesuffix("p")
            block = round(BLOCK_SECONDS * decoded.rate)
            chunk = block * max(1, CHUNK_SAMPLES // block)
        pending.append(_by_channel(frame, decoded.channels))
        have += frame.samples
        decoded.samples += frame.samples
        while have >= chunk:
            joined = pending[0] if len(pending) == 1 else np.concatenate(pending, axis=1)
            yield _chunk(joined[:, :chunk], first, block, decoded, sample_format)
            pending = [joined[:, chunk:]]
            have -= chunk
            first += chunk
    if have:
        yield _chunk(np.concatenate(pending, axis=1), first, block, decoded, sample_format)


def _by_channel(frame: Any, channels: int) -> npt.NDArray[Any]:
    """The frame's samples shaped (channels, n); packed (interleaved) formats are transposed."""
    raw: npt.NDArray[Any] = frame.to_ndarray()
    return raw if frame.format.is_planar else raw.reshape(-1, channels).T


def _chunk(
    joined: npt.NDArray[Any], first: int, block: int, decoded: Decoded, sample_format: str
) -> Chunk:
    scale = _SCALE.get(sample_format)
    if scale is None:
        raise UndecodableMediaError(f"unsupported sample format {sample_format}")
    step = max(1, decoded.rate // TELEPHONE_RATE)
    # Thinning keeps the phase across chunks: sample i of the call is kept when i % step == 0.
    values = np.ascontiguousarray(joined[:, (-first) % step :: step], dtype=np.float32)
    if sample_format == "u8":
        values -= 128.0
    if scale != 1.0:
        values *= np.float32(1.0 / scale)
    end = first + joined.shape[1]
    starts = range(first, end, block)
    return Chunk(
        samples=values,
        rate=decoded.rate / step,
        blocks=tuple(_kept(min(a + block, end), step) - _kept(a, step) for a in starts),
    )


def _kept(index: int, step: int) -> int:
    """How many of the call's samples before `index` thinning keeps (multiples of `step`)."""
    return -(-index // step)
