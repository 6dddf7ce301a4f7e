"""The figures of a recording from its speech spans, and a conversation's over its recordings."""

from __future__ import annotations

import pytest

from callarchive.analysis import RecordingAnalysis, combine, media_length
from callarchive.analysis.figures import measure


def test_silence_is_where_nobody_speaks_and_talk_over_where_both_do() -> None:
    figures = measure([[(1.0, 4.0), (6.0, 7.0)], [(3.0, 5.0)]], 10.0)
    assert figures.speech_s == 5.0  # 1..5 and 6..7
    assert figures.talkover_s == 1.0  # 3..4
    assert figures.silence_s == 5.0
    assert figures.longest_silence_s == 3.0  # 7..10, the end counts
    assert (figures.customer_speech_s, figures.agent_speech_s) == (4.0, 2.0)


def test_a_recording_without_speech_is_all_silence() -> None:
    figures = measure([[], []], 12.5)
    assert (figures.speech_s, figures.talkover_s, figures.longest_silence_s) == (0.0, 0.0, 12.5)


def test_a_mono_recording_has_no_agent_figures() -> None:
    figures = measure([[(0.0, 2.0)]], 4.0)
    assert figures.agent_speech_s is None
    conversation = combine([figures])
    assert conversation is not None
    assert conversation.talkover_ratio is None
    assert conversation.agent_speech_s is None
    assert conversation.silence_ratio == 0.5


def test_recordings_count_as_played_one_after_the_other() -> None:
    first = measure([[(0.0, 8.0)], [(6.0, 10.0)]], 10.0)  # speech 10, talk-over 2, silence 0
    second = measure([[(5.0, 10.0)], []], 30.0)  # speech 5, silence 25, longest 20
    figures = combine([first, second])
    assert figures is not None
    assert figures.media_length == "000:00:40"
    assert figures.silence_ratio == pytest.approx(25 / 40, abs=1e-4)
    assert figures.talkover_ratio == pytest.approx(2 / 15, abs=1e-4)
    assert figures.longest_silence == 20.0  # silences never span two recordings
    assert (figures.customer_speech_s, figures.agent_speech_s) == (13.0, 4.0)


def test_no_recordings_give_no_figures() -> None:
    assert combine([]) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "000:00:00"), (0.49, "000:00:00"), (0.5, "000:00:01"), (3599.6, "001:00:00"),
     (3 * 3600 + 62, "003:01:02"), (123 * 3600, "123:00:00")],
)  # fmt: skip
def test_media_length_is_hhh_mm_ss(seconds: float, text: str) -> None:
    assert media_length(seconds) == text


def test_the_figures_round_trip_through_json() -> None:
    figures = measure([[(1.0, 4.0)], [(3.0, 5.0)]], 10.0)
    assert RecordingAnalysis.from_json(figures.to_json()) == figures
