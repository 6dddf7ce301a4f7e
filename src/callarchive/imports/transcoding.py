"""Local transcoding with PyAV: batch downloads arrive in the trunk's codec, the archive keeps the
import source's codec. Streaming, frame by frame: memory does not grow with the call's length.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.audio.resampler import AudioResampler

from callarchive.configuration import Codec
from callarchive.errors import SkipError

RATE = 8000  # telephony audio


@dataclass(frozen=True, kw_only=True, slots=True)
class _Target:
    container: str
    codec: str
    sample_format: str
    options: dict[str, str]
    bit_rate: int | None = None
    decoders: frozenset[str] = frozenset()  # FFmpeg's decoder names for this codec

    def decoded_by(self, name: str) -> bool:
        return name in self.decoders or name == self.codec.removeprefix("lib")


_TARGETS: dict[Codec, _Target] = {
    Codec.WAV: _Target(container="wav", codec="pcm_s16le", sample_format="s16", options={}),
    Codec.WAV_ULAW: _Target(container="wav", codec="pcm_mulaw", sample_format="s16", options={}),
    Codec.MP3: _Target(
        container="mp3",
        codec="libmp3lame",
        sample_format="s16p",
        options={},
        bit_rate=32_000,
        decoders=frozenset({"mp3", "mp3float"}),
    ),
    Codec.OGG_OPUS: _Target(
        container="ogg", codec="libopus", sample_format="s16", options={}, bit_rate=24_000
    ),
    Codec.WEBM: _Target(
        container="webm", codec="libopus", sample_format="s16", options={}, bit_rate=24_000
    ),
    Codec.OGG_VORBIS: _Target(
        container="ogg", codec="vorbis", sample_format="fltp", options={"strict": "experimental"}
    ),
}


class MediaDecodeError(SkipError):
    """The downloaded media could not be decoded (the CDR goes to the retry buffer)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AudioInfo:
    codec: str  # FFmpeg's name of the audio codec
    container: str
    duration_ms: int | None
    channels: int


def probe(path: Path) -> AudioInfo:
    """What the file holds."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            duration = None
            if container.duration is not None:
                duration = int(container.duration / 1000)
            return AudioInfo(
                codec=stream.codec_context.name,
                container=container.format.name,
                duration_ms=duration,
                channels=stream.codec_context.channels,
            )
    except (av.FFmpegError, IndexError) as error:
        raise MediaDecodeError(f"media {path.name} cannot be read: {error}") from error


def matches(info: AudioInfo, codec: Codec) -> bool:
    """True when the file already is in `codec` (no transcoding needed)."""
    target = _TARGETS[codec]
    return target.decoded_by(info.codec) and target.container in info.container.split(",")


def transcode(source: Path, destination: Path, codec: Codec) -> None:
    """Decode `source` and encode it as `codec` into `destination` (stereo kept, 8 kHz)."""
    target = _TARGETS[codec]
    try:
        with (
            av.open(str(source)) as inp,
            av.open(
                str(destination), "w", format=target.container, options={"fflags": "+bitexact"}
            ) as out,
        ):
            channels = inp.streams.audio[0].codec_context.channels
            layout = "stereo" if channels >= 2 else "mono"
            stream: Any = out.add_stream(target.codec, rate=RATE, options=target.options)
            stream.codec_context.layout = layout
            stream.codec_context.format = target.sample_format
            if target.bit_rate:
                stream.codec_context.bit_rate = target.bit_rate
            resampler = AudioResampler(format=target.sample_format, layout=layout, rate=RATE)
            time_base = Fraction(1, RATE)
            pts = 0
            for frame in _frames(inp, resampler):
                frame.pts = pts
                frame.time_base = time_base
                pts += frame.samples
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
    except (av.FFmpegError, IndexError) as error:
        raise MediaDecodeError(
            f"media {source.name} could not be transcoded to {codec}: {error}"
        ) from error


def _frames(inp: Any, resampler: AudioResampler) -> Iterator[Any]:
    for frame in inp.decode(audio=0):
        frame.pts = None
        yield from resampler.resample(frame)
    yield from resampler.resample(None)
