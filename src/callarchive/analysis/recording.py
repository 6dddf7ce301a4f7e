"""Analysing one recording: decode it once, feed the voice detector and the peak collector."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from callarchive.analysis.decoding import Decoded, UndecodableMediaError, buffers, chunks
from callarchive.analysis.figures import RecordingAnalysis, measure
from callarchive.analysis.voice import FRAME_MS, Framer, VoiceDetector
from callarchive.analysis.waveform import PeakCollector, Waveform


@dataclass(frozen=True, kw_only=True, slots=True)
class Analysis:
    """What the import keeps of a recording's audio."""

    figures: RecordingAnalysis
    waveform: Waveform


def analyse(path: Path) -> Analysis:
    """Decode the recording at `path` (streaming) and measure it.

    `UndecodableMediaError` when it cannot be decoded or holds no audio.
    """
    decoded = Decoded()
    detector: VoiceDetector | None = None
    peaks: PeakCollector | None = None
    with buffers() as held:
        framer = Framer(held)
        for chunk in chunks(path, decoded, held):
            if detector is None or peaks is None:
                detector = VoiceDetector(decoded.channels)
                peaks = PeakCollector(decoded.channels)
            stats = framer.push(chunk.samples, chunk.rate, chunk.blocks)
            detector.push(stats)
            peaks.push(stats.lows, stats.highs)
    if detector is None or peaks is None or not decoded.samples:
        raise UndecodableMediaError(f"{path.name} holds no audio")
    seconds = FRAME_MS / 1000
    spans = [
        [(start * seconds, min(end, detector.frames) * seconds) for start, end in channel]
        for channel in detector.finish()
    ]
    return Analysis(figures=measure(spans, decoded.seconds), waveform=peaks.finish())
