"""Waveform peaks: at most a bounded number per channel, stored in a few kilobytes."""

from __future__ import annotations

import numpy as np
import pytest

from callarchive.analysis import Waveform, WaveformFormatError
from callarchive.analysis.waveform import MAX_PEAKS, PeakCollector


def collect(lows: np.ndarray, highs: np.ndarray, *, chunk: int, limit: int = MAX_PEAKS) -> Waveform:
    collector = PeakCollector(lows.shape[0], limit=limit)
    for first in range(0, lows.shape[1], chunk):
        collector.push(lows[:, first : first + chunk], highs[:, first : first + chunk])
    return collector.finish()


@pytest.mark.parametrize("chunk", [1, 7, 200, 100_000])
def test_peaks_stay_bounded_and_cover_the_whole_call(chunk: int) -> None:
    frames = 100 * 3600  # an hour of 10 ms frames
    highs = np.tile(np.linspace(0.0, 1.0, frames, dtype=np.float32), (2, 1))
    waveform = collect(-highs, highs, chunk=chunk)
    count = len(waveform.channels[0])
    assert MAX_PEAKS // 2 <= count <= MAX_PEAKS
    assert waveform.seconds_per_peak * (count - 1) < 3600 <= waveform.seconds_per_peak * count
    assert waveform.channels[0][-1] == (-1.0, 1.0)
    assert [high for _, high in waveform.channels[1]] == sorted(h for _, h in waveform.channels[1])


def test_each_peak_is_the_lowest_and_highest_of_its_frames() -> None:
    lows = np.array([[-0.1, -0.5, -0.2, -0.3, -0.4]], dtype=np.float32)
    highs = np.array([[0.1, 0.2, 0.6, 0.3, 0.4]], dtype=np.float32)
    waveform = collect(lows, highs, chunk=2, limit=2)
    assert waveform.seconds_per_peak == pytest.approx(0.04)
    assert waveform.channels == (((-0.5, 0.6), (-0.4, 0.4)),)


def test_the_stored_form_is_small_and_reads_back() -> None:
    frames = 100 * 600
    rng = np.random.default_rng(3)
    highs = rng.uniform(0, 0.3, (2, frames)).astype(np.float32)
    waveform = collect(-highs, highs, chunk=500)
    data = waveform.to_bytes()
    assert len(data) <= 16 + 2 * 2 * MAX_PEAKS
    again = Waveform.from_bytes(data)
    assert again.seconds_per_peak == pytest.approx(waveform.seconds_per_peak)
    np.testing.assert_allclose(again.channels, waveform.channels, atol=0.3 / 127)
    assert again.to_json()["channels"][1][0] == list(again.channels[1][0])


@pytest.mark.parametrize(
    "data", [b"", b"CAW1", b"XXXX\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"]
)
def test_other_bytes_are_not_a_waveform(data: bytes) -> None:
    with pytest.raises(WaveformFormatError):
        Waveform.from_bytes(data)
