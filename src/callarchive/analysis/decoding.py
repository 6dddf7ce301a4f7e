"""Streaming decode of a recording with PyAV into float blocks, one row per channel.

Decoded frames are gathered into blocks of about two seconds (numpy works on blocks, not on
20 ms frames) and thinned to the telephone band: decoders such as Opus always output 48 kHz, but
the energy of 8 kHz telephone audio is measured as well from every sixth sample. Only one block
is in memory at a time, whatever the length of the call.
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
WAV_PACKET_BYTES = 64 * 1024

Samples = npt.NDArray[np.float32]


class UndecodableMediaError(SkipError):
    """The media cannot be decoded: no audio stream, a damaged file or an unknown codec."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Block:
    """Samples of every channel in [-1, 1] at `rate` (after thinning), shaped (channels, n)."""

    samples: Samples
    rate: float


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


def blocks(path: Path, decoded: Decoded) -> Iterator[Block]:
    """Yield the recording at `path` block by block; `decoded` is filled in on the way."""
    try:
        with av.open(str(path), options=_demuxer_options(path)) as container:
            if not container.streams.audio:
                raise UndecodableMediaError(f"{path.name} has no audio stream")
            stream = container.streams.audio[0]
            yield from _blocks(container.decode(stream), decoded)
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


def _blocks(frames: Iterator[Any], decoded: Decoded) -> Iterator[Block]:
    """Blocks of exactly `BLOCK_SECONDS` (the last one shorter), whatever the decoder's frame
    size: the voice detector's thresholds follow blocks, so the figures do not depend on how a
    container cuts its packets."""
    pending: list[npt.NDArray[Any]] = []  # (channels, n) arrays of raw samples
    have = 0  # samples per channel in `pending`
    first = 0  # the call's sample index where the pending samples start
    size = 0
    sample_format = ""
    for frame in frames:
        if not decoded.rate:
            decoded.rate = frame.sample_rate
            decoded.channels = len(frame.layout.channels)
            sample_format = frame.format.name.removesuffix("p")
            size = round(BLOCK_SECONDS * decoded.rate)
        pending.append(_by_channel(frame, decoded.channels))
        have += frame.samples
        decoded.samples += frame.samples
        while have >= size:
            joined = pending[0] if len(pending) == 1 else np.concatenate(pending, axis=1)
            yield _block(joined[:, :size], first, decoded, sample_format)
            pending = [joined[:, size:]]
            have -= size
            first += size
    if have:
        yield _block(np.concatenate(pending, axis=1), first, decoded, sample_format)


def _by_channel(frame: Any, channels: int) -> npt.NDArray[Any]:
    """The frame's samples shaped (channels, n); packed (interleaved) formats are transposed."""
    raw: npt.NDArray[Any] = frame.to_ndarray()
    return raw if frame.format.is_planar else raw.reshape(-1, channels).T


def _block(joined: npt.NDArray[Any], first: int, decoded: Decoded, sample_format: str) -> Block:
    scale = _SCALE.get(sample_format)
    if scale is None:
        raise UndecodableMediaError(f"unsupported sample format {sample_format}")
    step = max(1, decoded.rate // TELEPHONE_RATE)
    # Thinning keeps the phase across blocks: sample i of the call is kept when i % step == 0.
    values = np.ascontiguousarray(joined[:, (-first) % step :: step], dtype=np.float32)
    if sample_format == "u8":
        values -= 128.0
    if scale != 1.0:
        values *= np.float32(1.0 / scale)
    return Block(samples=values, rate=decoded.rate / step)
