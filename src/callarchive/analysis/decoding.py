"""Streaming decode of a recording with PyAV into float chunks, one row per channel.

Decoded frames are gathered into chunks of whole two-second blocks (the voice detector's unit;
numpy works on chunks, not on 20 ms frames: a chunk holds up to `CHUNK_SAMPLES` samples a
channel) and thinned to the telephone band: decoders such as Opus always output 48 kHz, but
the energy of 8 kHz telephone audio is measured as well from every sixth sample. Only one
chunk is in memory at a time, whatever the length of the call.
"""

from __future__ import annotations

import contextlib
import math
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
# one): 8 blocks of 8 kHz audio. numpy's work per chunk costs Python overhead that one block
# at a time made a third of the analysis; larger chunks than this gain nothing more.
CHUNK_SAMPLES = 131_072
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


# PyAV's sample formats (planar ones end in "p") as numpy's types.
_FORMATS: dict[str, np.dtype[Any]] = {
    "u8": np.dtype(np.uint8),
    "s16": np.dtype(np.int16),
    "s32": np.dtype(np.int32),
    "flt": np.dtype(np.float32),
    "dbl": np.dtype(np.float64),
}


class Buffers:
    """The arrays one analysis at a time works in, kept for the next analysis.

    A chunk of 16 seconds of stereo audio is about a megabyte; made new for every chunk, such
    arrays cost their page faults each time, and once glibc's malloc has freed one it takes
    later ones from the heap of the thread, which keeps what it frees (the import analyses in
    many worker threads). Held here, the analysis allocates nothing of that size after the
    first recordings.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, npt.NDArray[Any]] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> npt.NDArray[Any]:
        """A C-contiguous array of `shape` (contents undefined) for the use called `name`,
        the same memory as the last call with that name when it was large enough."""
        size = math.prod(shape)
        kept = self._arrays.get(name)
        if kept is None or kept.dtype != dtype or kept.size < size:
            kept = self._arrays[name] = np.empty(size, dtype)
        return kept[:size].reshape(shape)


_SPARE_BUFFERS = 4  # the import analyses at most 4 recordings at once
_spare: list[Buffers] = []


@contextlib.contextmanager
def buffers() -> Iterator[Buffers]:
    """Buffers for one analysis: the last spare ones, or new ones; kept afterwards (a few)."""
    try:
        held = _spare.pop()  # atomic: analyses run in several threads
    except IndexError:
        held = Buffers()
    try:
        yield held
    finally:
        if len(_spare) < _SPARE_BUFFERS:
            _spare.append(held)


def chunks(path: Path, decoded: Decoded, held: Buffers | None = None) -> Iterator[Chunk]:
    """Yield the recording at `path` chunk by chunk; `decoded` is filled in on the way.

    A chunk's samples are in `held`'s arrays (new ones when none are given): they hold until
    the next chunk is asked for, and are then overwritten.
    """
    try:
        with av.open(str(path), options=_demuxer_options(path)) as container:
            if not container.streams.audio:
                raise UndecodableMediaError(f"{path.name} has no audio stream")
            stream = container.streams.audio[0]
            yield from _chunks(container.decode(stream), decoded, held or Buffers())
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


def _chunks(frames: Iterator[Any], decoded: Decoded, held: Buffers) -> Iterator[Chunk]:
    """Chunks of whole `BLOCK_SECONDS` blocks (the last one shorter), whatever the decoder's
    frame size: the voice detector's thresholds follow blocks, so the figures do not depend on
    how a container cuts its packets. Each frame's samples are copied straight from the
    decoder's buffers into the chunk's array; no array is made per frame or per chunk."""
    raw: npt.NDArray[Any] | None = None  # (channels, chunk) samples as decoded
    have = 0  # samples per channel in `raw`
    first = 0  # the call's sample index where `raw` starts
    block = chunk = 0
    sample_format = ""
    for frame in frames:
        if raw is None:
            decoded.rate = frame.sample_rate
            decoded.channels = frame.layout.nb_channels
            sample_format = frame.format.name
            dtype = _FORMATS.get(sample_format.removesuffix("p"))
            if dtype is None:
                raise UndecodableMediaError(f"unsupported sample format {sample_format}")
            block = round(BLOCK_SECONDS * decoded.rate)
            chunk = block * max(1, CHUNK_SAMPLES // block)
            raw = held.array("decoded", (decoded.channels, chunk), dtype)
        elif frame.format.name != sample_format or frame.layout.nb_channels != decoded.channels:
            raise UndecodableMediaError("the audio changes its sample format or channels")
        rows = _rows(frame, decoded.channels, raw.dtype)
        count = frame.samples
        decoded.samples += count
        taken = 0
        while taken < count:
            take = min(chunk - have, count - taken)
            for channel, row in enumerate(rows):
                raw[channel, have : have + take] = row[taken : taken + take]
            have += take
            taken += take
            if have == chunk:
                yield _chunk(raw, first, block, decoded, held)
                have = 0
                first += chunk
    if raw is not None and have:
        yield _chunk(raw[:, :have], first, block, decoded, held)


def _rows(frame: Any, channels: int, dtype: np.dtype[Any]) -> list[npt.NDArray[Any]]:
    """The frame's samples, one view per channel into the decoder's own buffers (packed,
    interleaved, formats give strided views)."""
    if frame.format.is_planar:
        return [np.frombuffer(plane, dtype, count=frame.samples) for plane in frame.planes]
    packed = np.frombuffer(frame.planes[0], dtype, count=frame.samples * channels)
    return list(packed.reshape(-1, channels).T)


def _chunk(raw: npt.NDArray[Any], first: int, block: int, decoded: Decoded, held: Buffers) -> Chunk:
    # Full scale: 2**15 for 16-bit samples and so on (unsigned ones centred on half of it).
    scale = 2.0 ** (raw.dtype.itemsize * 8 - 1) if raw.dtype.kind in "iu" else 1.0
    step = max(1, decoded.rate // TELEPHONE_RATE)
    # Thinning keeps the phase across chunks: sample i of the call is kept when i % step == 0.
    kept = raw[:, (-first) % step :: step]
    values = held.array("samples", kept.shape, np.dtype(np.float32))
    np.copyto(values, kept, casting="unsafe")
    if raw.dtype == np.uint8:  # unsigned: silence is 128
        values -= np.float32(128.0)
    if scale != 1.0:
        values *= np.float32(1.0 / scale)
    end = first + raw.shape[1]
    starts = range(first, end, block)
    return Chunk(
        samples=values,
        rate=decoded.rate / step,
        blocks=tuple(_kept(min(a + block, end), step) - _kept(a, step) for a in starts),
    )


def _kept(index: int, step: int) -> int:
    """How many of the call's samples before `index` thinning keeps (multiples of `step`)."""
    return -(-index // step)
