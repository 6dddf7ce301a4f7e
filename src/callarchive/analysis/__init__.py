"""Audio analysis of recordings: media length, silence, talk-over, speech time, waveform.

    analyse(path)        decode a recording (streaming, PyAV) and measure it -> Analysis
    combine(figures)     a conversation's figures over its recordings -> ConversationFigures
    Waveform             peaks per channel for the player; `to_bytes`/`from_bytes` to store

Channel 0 is the customer (left), channel 1 the agent (right). `UndecodableMediaError` (a skip
error) when a recording cannot be decoded.
"""

from callarchive.analysis.decoding import UndecodableMediaError
from callarchive.analysis.figures import (
    ConversationFigures,
    RecordingAnalysis,
    combine,
    media_length,
)
from callarchive.analysis.recording import Analysis, analyse
from callarchive.analysis.waveform import Waveform, WaveformFormatError

__all__ = [
    "Analysis",
    "ConversationFigures",
    "RecordingAnalysis",
    "UndecodableMediaError",
    "Waveform",
    "WaveformFormatError",
    "analyse",
    "combine",
    "media_length",
]
