"""Waveform peaks: the lowest and highest sample of each channel per stretch of the call.

Collected at import from the 10 ms frames, at most `MAX_PEAKS` pairs per channel whatever the
length of the call: when there would be more, neighbouring pairs merge and each covers twice the
time. Stored as a few kilobytes: a header, then int8 pairs scaled to the loudest sample.

Binary layout (little-endian): b"CAW1", channels (u8), count (u16), seconds per pair (f32),
scale (f32), then `channels * count` (low, high) int8 pairs, channel by channel.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from callarchive.analysis.voice import FRAME_MS

MAX_PEAKS = 1200
_MAGIC = b"CAW1"
_HEADER = struct.Struct("<4sBHff")

Values = npt.NDArray[np.float32]


class WaveformFormatError(ValueError):
    """Stored bytes that are not a waveform of this format."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Waveform:
    """Peaks per channel (0 customer, 1 agent): `(low, high)` pairs in [-1, 1], each covering
    `seconds_per_peak` of the recording from its start (the last one may cover less)."""

    seconds_per_peak: float
    channels: tuple[tuple[tuple[float, float], ...], ...]

    def to_json(self) -> dict[str, Any]:
        """`{"seconds_per_peak": s, "channels": [[[low, high], ...], ...]}`."""
        return {
            "seconds_per_peak": self.seconds_per_peak,
            "channels": [[list(pair) for pair in channel] for channel in self.channels],
        }

    def to_bytes(self) -> bytes:
        peaks = np.array(self.channels, dtype=np.float32).reshape(len(self.channels), -1, 2)
        scale = float(np.abs(peaks).max(initial=0.0)) or 1.0
        quantised = np.rint(peaks / scale * 127).astype(np.int8)
        header = _HEADER.pack(_MAGIC, peaks.shape[0], peaks.shape[1], self.seconds_per_peak, scale)
        body: bytes = quantised.tobytes()
        return header + body

    @classmethod
    def from_bytes(cls, data: bytes) -> Waveform:
        try:
            magic, channels, count, seconds, scale = _HEADER.unpack_from(data)
        except struct.error as error:
            raise WaveformFormatError(f"not a stored waveform: {error}") from error
        body = data[_HEADER.size :]
        if magic != _MAGIC or len(body) != channels * count * 2:
            raise WaveformFormatError("not a stored waveform (wrong header or length)")
        peaks = np.frombuffer(body, dtype=np.int8).reshape(channels, count, 2) * (scale / 127)
        return cls(
            seconds_per_peak=round(seconds, 6),
            channels=tuple(
                tuple((round(float(lo), 4), round(float(hi), 4)) for lo, hi in channel)
                for channel in peaks
            ),
        )


class PeakCollector:
    """Collects frame lows and highs into at most `limit` peak pairs per channel."""

    def __init__(self, channels: int, *, limit: int = MAX_PEAKS) -> None:
        self._limit = limit
        self._frames_per_peak = 1
        self._done: list[tuple[Values, Values]] = []
        self._count = 0
        self._rest = (np.zeros(channels, np.float32), np.zeros(channels, np.float32), 0)

    def push(self, lows: Values, highs: Values) -> None:
        """Add the lows and highs (channels by frames) of the next frames."""
        low, high, have = self._rest
        need = min(self._frames_per_peak - have, lows.shape[1])
        if need:
            low = np.minimum(low, lows[:, :need].min(axis=1))
            high = np.maximum(high, highs[:, :need].max(axis=1))
            have += need
        lows, highs = lows[:, need:], highs[:, need:]
        if have == self._frames_per_peak:
            self._add(low[:, None], high[:, None])
            width = self._frames_per_peak
            full = lows.shape[1] // width
            shape = (lows.shape[0], full, width)
            self._add(
                lows[:, : full * width].reshape(shape).min(axis=2),
                highs[:, : full * width].reshape(shape).max(axis=2),
            )
            lows, highs = lows[:, full * width :], highs[:, full * width :]
            low, high, have = (
                lows.min(axis=1, initial=0),
                highs.max(axis=1, initial=0),
                lows.shape[1],
            )
        self._rest = (low, high, have)
        while self._count > self._limit:
            self._halve()

    def finish(self) -> Waveform:
        self._flush()
        while self._count > self._limit:
            self._halve()
            self._flush()
        lows = np.concatenate([d[0] for d in self._done], axis=1) if self._done else None
        highs = np.concatenate([d[1] for d in self._done], axis=1) if self._done else None
        channels: tuple[tuple[tuple[float, float], ...], ...] = ()
        if lows is not None and highs is not None:
            channels = tuple(
                tuple(zip(lo.round(4).tolist(), hi.round(4).tolist(), strict=True))
                for lo, hi in zip(lows.astype(np.float64), highs.astype(np.float64), strict=True)
            )
        return Waveform(seconds_per_peak=self._frames_per_peak * FRAME_MS / 1000, channels=channels)

    def _flush(self) -> None:
        """The unfinished pair becomes the last (shorter) one: the call has ended."""
        low, high, have = self._rest
        if have:
            self._add(low[:, None], high[:, None])
            self._rest = (np.zeros_like(low), np.zeros_like(high), 0)

    def _add(self, lows: Values, highs: Values) -> None:
        if lows.shape[1]:
            self._done.append((lows, highs))
            self._count += lows.shape[1]

    def _halve(self) -> None:
        lows = np.concatenate([d[0] for d in self._done], axis=1)
        highs = np.concatenate([d[1] for d in self._done], axis=1)
        low, high, have = self._rest
        if lows.shape[1] % 2:  # the odd last pair joins the unfinished one
            low, high = np.minimum(low, lows[:, -1]), np.maximum(high, highs[:, -1])
            have += self._frames_per_peak
            lows, highs = lows[:, :-1], highs[:, :-1]
        pairs = (lows.shape[0], lows.shape[1] // 2, 2)
        self._done = [(lows.reshape(pairs).min(axis=2), highs.reshape(pairs).max(axis=2))]
        self._count = pairs[1]
        self._frames_per_peak *= 2
        self._rest = (low, high, have)
