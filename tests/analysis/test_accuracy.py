"""Accuracy against the emulator's ground truth: over a hundred calls in every Genesys format, the
measured silence and talk-over ratios are within 0.03 of the true ones and the longest silence
within 0.3 s (the emulator's audio module renders each call's planned speech, bit-exact)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callarchive.analysis import analyse, combine
from genesys_emulator.audio import FORMATS, encode, plan_speech
from genesys_emulator.ground_truth import speech_analysis

CALLS = 100
RATIO_TOLERANCE = 0.03
LONGEST_SILENCE_TOLERANCE_S = 0.3


def duration_ms(seed: int) -> int:
    """10 to 25 s, and every tenth call 60 to 80 s (long enough for holds)."""
    if seed % 10 == 9:
        return 60_000 + seed * 6007 % 20_000
    return 10_000 + seed * 7919 % 15_000


def errors(path: Path, seed: int) -> dict[str, Any]:
    plan = plan_speech(seed, duration_ms(seed))
    truth = speech_analysis(plan)
    figures = combine([analyse(path).figures])
    assert figures is not None
    assert figures.talkover_ratio is not None
    return {
        "seed": seed,
        "silence_ratio": abs(figures.silence_ratio - truth["silence_ratio"]),
        "talkover_ratio": abs(figures.talkover_ratio - truth["talkover_ratio"]),
        "longest_silence": abs(figures.longest_silence - truth["longest_silence"]),
    }


@pytest.mark.slow
@pytest.mark.parametrize("format_id", list(FORMATS))
def test_the_figures_match_the_ground_truth_in_every_format(tmp_path: Path, format_id: str) -> None:
    measured = []
    for seed in range(CALLS):
        path = tmp_path / f"call-{seed}.{FORMATS[format_id].extension}"
        with path.open("wb") as sink:
            encode(plan_speech(seed, duration_ms(seed)), seed, format_id, sink)
        measured.append(errors(path, seed))
        path.unlink()
    outside = [
        m
        for m in measured
        if m["silence_ratio"] > RATIO_TOLERANCE
        or m["talkover_ratio"] > RATIO_TOLERANCE
        or m["longest_silence"] > LONGEST_SILENCE_TOLERANCE_S
    ]
    assert outside == []
    assert len(measured) == CALLS
