"""The ground truth's speech: each recording's true speech segments per channel and the silence,
talk-over and speech-time figures an audio analysis should find in it."""

from __future__ import annotations

import pytest

from genesys_emulator.audio import SpeechPlan
from genesys_emulator.ground_truth import speech_analysis
from tests.emulator.harness import RunningEmulator


@pytest.mark.parametrize(
    ("plan", "figures"),
    [
        (
            SpeechPlan(
                duration_ms=10_000, customer=((1000, 4000), (6000, 7000)), agent=((3000, 5000),)
            ),
            {"silence_ratio": 0.5, "talkover_ratio": 0.2, "longest_silence": 3.0,
             "customer_speech_s": 4.0, "agent_speech_s": 2.0},
        ),
        (
            SpeechPlan(duration_ms=4000, customer=(), agent=()),
            {"silence_ratio": 1.0, "talkover_ratio": 0.0, "longest_silence": 4.0,
             "customer_speech_s": 0.0, "agent_speech_s": 0.0},
        ),
        (
            SpeechPlan(duration_ms=2000, customer=((0, 2000),), agent=((500, 1500),)),
            {"silence_ratio": 0.0, "talkover_ratio": 0.5, "longest_silence": 0.0,
             "customer_speech_s": 2.0, "agent_speech_s": 1.0},
        ),
    ],
)  # fmt: skip
def test_the_figures_follow_from_the_segments(plan: SpeechPlan, figures: dict[str, float]) -> None:
    assert speech_analysis(plan) == figures


def test_every_recording_carries_its_segments_and_figures(emulator: RunningEmulator) -> None:
    truth = emulator.ground_truth()
    recordings = [r for c in truth["conversations"] for r in c["recordings"]]
    assert recordings
    for recording in recordings:
        speech = recording["speech"]
        assert set(speech) == {"customer", "agent"}
        for segments in speech.values():
            assert all(0 <= start < end <= recording["duration_ms"] for start, end in segments)
            assert segments == sorted(segments)
        plan = SpeechPlan(
            duration_ms=recording["duration_ms"],
            customer=tuple((start, end) for start, end in speech["customer"]),
            agent=tuple((start, end) for start, end in speech["agent"]),
        )
        assert recording["analysis"] == speech_analysis(plan)
