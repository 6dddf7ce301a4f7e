"""Synthetic test audio: tones in known spans over a little noise, written with PyAV."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.audio.stream import AudioStream

Span = tuple[float, float]


def signal(
    channels: Sequence[Sequence[Span]],
    seconds: float,
    *,
    rate: int = 8000,
    level_dbfs: float = -20.0,
    noise_dbfs: float = -65.0,
    seed: int = 1,
) -> np.ndarray:
    """Float samples (channels, n): a 300 Hz tone in each span, white noise elsewhere."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    out = rng.standard_normal((len(channels), n)) * 10 ** (noise_dbfs / 20)
    t = np.arange(n) / rate
    tone = np.sqrt(2) * 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * 300 * t)
    for row, spans in zip(out, channels, strict=True):
        for start, end in spans:
            row[round(start * rate) : round(end * rate)] += tone[
                round(start * rate) : round(end * rate)
            ]
    return out


def write(
    path: Path,
    samples: np.ndarray,
    *,
    rate: int = 8000,
    container: str = "wav",
    codec: str = "pcm_s16le",
) -> Path:
    """Encode float samples (channels, n) to `path`."""
    layout = "stereo" if samples.shape[0] == 2 else "mono"
    with av.open(str(path), mode="w", format=container) as output:
        stream = output.add_stream(codec, rate=rate)
        assert isinstance(stream, AudioStream)
        stream.codec_context.layout = layout
        pcm = np.rint(np.clip(samples, -1, 1) * 32767).astype(np.int16)
        for first in range(0, pcm.shape[1], 4000):
            chunk = np.ascontiguousarray(pcm[:, first : first + 4000])
            frame = av.AudioFrame.from_ndarray(chunk, format="s16p", layout=layout)
            frame.sample_rate = rate
            frame.pts = first
            frame.time_base = Fraction(1, rate)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path
