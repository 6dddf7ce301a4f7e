"""Serving a recording's media: HTTP Range for seeking players, download, the audit log.

The object is found through the conversation the viewer may see and one of its recordings, never
from a key in the URL, so a request cannot name another object. A player's first request (no
range, or a range from byte 0) is written to the audit log as a playback, a download always.
"""

from __future__ import annotations

import dataclasses
import re

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from callarchive.archive import Conversation, Recording
from callarchive.configuration import Codec
from callarchive.web.auth import NotFoundError, Viewer
from callarchive.web.state import WebState

MEDIA_TYPES = {
    Codec.WAV: "audio/wav",
    Codec.WAV_ULAW: "audio/wav",
    Codec.WEBM: "audio/webm",
    Codec.MP3: "audio/mpeg",
    Codec.OGG_VORBIS: "audio/ogg",
    Codec.OGG_OPUS: "audio/ogg",
}
_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
PAST_ANY_END = 10**18  # bytes; beyond any object, and int() of 4,300 digits or more raises


class RangeNotSatisfiableError(Exception):
    """A Range header outside the object (416)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ByteRange:
    """Bytes `start` to `end` (exclusive) of an object of `size` bytes."""

    start: int
    end: int
    size: int

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end - 1}/{self.size}"


def byte_range(header: str | None, size: int) -> ByteRange | None:
    """The single range a `Range` header asks for (None: the whole object).

    Several ranges, or a header that is not a byte range, are answered with the whole object
    (RFC 9110 allows ignoring Range); a range that starts past the end raises
    `RangeNotSatisfiableError`.
    """
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        start, end = max(size - _offset(last), 0), size
    else:
        start = _offset(first)
        end = size if not last else min(_offset(last) + 1, size)
    if start >= size or end <= start:
        raise RangeNotSatisfiableError(f"bytes */{size}")
    return ByteRange(start=start, end=end, size=size)


def _offset(digits: str) -> int:
    """A byte offset from its digits; one longer than any object stands for "past the end"."""
    return int(digits) if len(digits) < len(str(PAST_ANY_END)) else PAST_ANY_END


def find_recording(conversation: Conversation, recording_id: str, codec: str) -> Recording:
    """The recording of `conversation` with this id and codec; `NotFoundError` otherwise."""
    for recording in conversation.recordings:
        if recording.recording_id == recording_id and recording.codec.value == codec:
            return recording
    raise NotFoundError("no such recording")


def file_name(conversation: Conversation, recording: Recording) -> str:
    """The download's file name: Genesys conversation and recording ids, codec extension."""
    return f"{conversation.genesys_id}_{recording.recording_id}.{recording.codec.file_extension}"


async def media_response(
    request: Request,
    state: WebState,
    viewer: Viewer,
    conversation: Conversation,
    recording: Recording,
    *,
    download: bool,
) -> Response:
    """The recording's bytes (or the asked range), written to the audit log."""
    size = recording.size
    try:
        wanted = byte_range(request.headers.get("range"), size)
    except RangeNotSatisfiableError as error:
        return Response(status_code=416, headers={"content-range": str(error)})
    start, end = (wanted.start, wanted.end) if wanted else (0, size)
    if download or start == 0:
        await state.archive.audit.record(
            actor=viewer.login,
            action="recording_downloaded" if download else "recording_played",
            target=f"conversation {conversation.id} recording {recording.recording_id}",
            details={"codec": recording.codec.value, "genesys_id": conversation.genesys_id},
        )
    stream = await state.media.read(recording.object_key, start=start, end=end)
    headers = {
        "accept-ranges": "bytes",
        "content-length": str(end - start),
        "cache-control": "private, no-store",
    }
    if wanted is not None:
        headers["content-range"] = wanted.content_range
    if download:
        headers["content-disposition"] = (
            f'attachment; filename="{file_name(conversation, recording)}"'
        )
    return StreamingResponse(
        aiter(stream),
        status_code=206 if wanted else 200,
        media_type=MEDIA_TYPES.get(recording.codec, "application/octet-stream"),
        headers=headers,
    )


__all__ = [
    "ByteRange",
    "RangeNotSatisfiableError",
    "byte_range",
    "file_name",
    "find_recording",
    "media_response",
]
