"""The figures of a recording and how a conversation's figures combine its recordings.

From the speech segments of each channel (customer left, agent right): silence is where nobody
speaks, talk-over where both do. A conversation with several recordings (transfers, consults)
counts them as if played one after the other: lengths, silence, speech and talk-over add up, the
longest silence is the longest in any one recording (a silence never spans two recordings).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Span = tuple[float, float]  # seconds [start, end)


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingAnalysis:
    """The audio figures of one recording, in seconds (agent figures are None for mono)."""

    media_seconds: float
    channels: int
    customer_speech_s: float
    agent_speech_s: float | None
    speech_s: float  # someone speaks
    talkover_s: float  # both speak
    longest_silence_s: float

    @property
    def silence_s(self) -> float:
        return max(0.0, self.media_seconds - self.speech_s)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordingAnalysis:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationFigures:
    """The conversation's fields (DESIGN.md section 5 and the per-channel speech time)."""

    media_length: str  # hhh:mm:ss, as the seed's Media Length
    silence_ratio: float  # share of the media where nobody speaks
    talkover_ratio: float | None  # share of speech time where both speak (None: mono)
    longest_silence: float  # seconds
    customer_speech_s: float
    agent_speech_s: float | None


def measure(segments: Sequence[Sequence[Span]], media_seconds: float) -> RecordingAnalysis:
    """The figures of a recording from its speech spans per channel."""
    union = _union(span for channel in segments for span in channel)
    both = _intersection(segments[0], segments[1]) if len(segments) > 1 else []
    edges = [0.0, *[x for span in union for x in span], media_seconds]
    gaps = [edges[i + 1] - edges[i] for i in range(0, len(edges) - 1, 2)]
    return RecordingAnalysis(
        media_seconds=round(media_seconds, 3),
        channels=len(segments),
        customer_speech_s=_total(segments[0]) if segments else 0.0,
        agent_speech_s=_total(segments[1]) if len(segments) > 1 else None,
        speech_s=_total(union),
        talkover_s=_total(both),
        longest_silence_s=round(max(0.0, *gaps), 3),
    )


def combine(recordings: Sequence[RecordingAnalysis]) -> ConversationFigures | None:
    """The conversation's figures over its recordings played one after the other."""
    if not recordings:
        return None
    media = sum(r.media_seconds for r in recordings)
    speech = sum(r.speech_s for r in recordings)
    stereo = all(r.agent_speech_s is not None for r in recordings)
    return ConversationFigures(
        media_length=media_length(media),
        silence_ratio=round(sum(r.silence_s for r in recordings) / media, 4) if media else 0.0,
        talkover_ratio=(
            (round(sum(r.talkover_s for r in recordings) / speech, 4) if speech else 0.0)
            if stereo
            else None
        ),
        longest_silence=max(r.longest_silence_s for r in recordings),
        customer_speech_s=round(sum(r.customer_speech_s for r in recordings), 3),
        agent_speech_s=(
            round(sum(r.agent_speech_s or 0.0 for r in recordings), 3) if stereo else None
        ),
    )


def media_length(seconds: float) -> str:
    """`hhh:mm:ss`, rounded to the nearest second (half up)."""
    whole = math.floor(seconds + 0.5)
    return f"{whole // 3600:03d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _total(spans: Iterable[Span]) -> float:
    return round(sum(end - start for start, end in spans), 3)


def _union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersection(first: Sequence[Span], second: Sequence[Span]) -> list[Span]:
    """Where two channels overlap; each channel's spans are sorted and disjoint (a sweep)."""
    out = []
    i = j = 0
    while i < len(first) and j < len(second):
        start, end = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if start < end:
            out.append((start, end))
        if first[i][1] <= second[j][1]:
            i += 1
        else:
            j += 1
    return out
