"""The cursor file: how far an import (a policy and an import source) has got.

One line, `<last imported conversation id>;<YYYY.MM.DD HH:MM:SS.mmm>` in UTC, e.g.
`c84f2f69..._19d0243a-9fd0-11d1-ac11-13453884b96c;2023.02.02 07:00:00.000`, kept at
`cdrimport/GenesysCloud/laststate/<policyId>_<importSourceId>/<policyId>_<importSourceId>.cursor`.
Operators edit it by hand (the seed's maintenance procedure), so parsing is strict and every
rejection says what is wrong and what the line should look like.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from callarchive.errors import ConfigurationError, FatalError

FORMAT_HINT = (
    "<conversation id>;YYYY.MM.DD HH:MM:SS.mmm (UTC), e.g. 3f2a...;2023.02.02 07:00:00.000"
)
MAX_BYTES = 4096
_ID = re.compile(r"[^;\r\n]{0,200}")
_LINE = re.compile(
    r"^(?P<id>[^;\r\n]{0,200});(?P<ts>\d{4}\.\d{2}\.\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)$"
)


class CursorError(FatalError):
    """The cursor file cannot be used; the run stops and nothing is advanced."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Cursor:
    """Everything before `position` has a durable outcome; `conversation_id` was the last one."""

    position: dt.datetime
    conversation_id: str = ""

    def __post_init__(self) -> None:
        if self.position.tzinfo is None:
            raise ValueError("cursor positions are timezone-aware (UTC)")
        line = self.conversation_id
        if not _ID.fullmatch(line) or len(line.splitlines()) > 1 or line != line.strip():
            raise ValueError(
                f"conversation id {line[:80]!r} cannot be written in a cursor line (at most 200 "
                "characters, no ';', no line break, no surrounding spaces)"
            )

    def render(self) -> str:
        """The file's single line (with a trailing newline)."""
        utc = self.position.astimezone(dt.UTC)
        # Not strftime: its %Y does not pad years before 1000 to the four digits parse expects.
        stamp = (
            f"{utc.year:04d}.{utc.month:02d}.{utc.day:02d} "
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}"
        )
        return f"{self.conversation_id};{stamp}\n"


def parse(
    text: bytes | str, *, now: dt.datetime | None = None, source: str = "cursor file"
) -> Cursor:
    """Read a cursor file's content; raises CursorError saying what is wrong."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise CursorError(
                f"{source} is {len(text)} bytes; it must be one short line: {FORMAT_HINT}"
            )
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CursorError(f"{source} is not UTF-8 text; expected {FORMAT_HINT}") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise CursorError(f"{source} is empty; expected {FORMAT_HINT}")
    if len(lines) > 1:
        raise CursorError(f"{source} has {len(lines)} lines; expected one: {FORMAT_HINT}")
    match = _LINE.match(lines[0])
    if match is None:
        raise CursorError(f"{source} line {lines[0][:80]!r} is not {FORMAT_HINT}")
    try:
        layout = "%Y.%m.%d %H:%M:%S.%f" if "." in match["ts"][10:] else "%Y.%m.%d %H:%M:%S"
        position = dt.datetime.strptime(match["ts"], layout).replace(tzinfo=dt.UTC)
    except ValueError as error:
        raise CursorError(
            f"{source} timestamp {match['ts']!r} is not a valid date and time: {error}"
        ) from None
    cursor = Cursor(position=position, conversation_id=match["id"].strip())
    if now is not None and cursor.position > now + dt.timedelta(minutes=5):
        raise CursorError(
            f"{source} timestamp {match['ts']} lies in the future "
            f"(now {now:%Y.%m.%d %H:%M:%S} UTC): either this server's clock moved backwards "
            "since the cursor was written (check its time synchronisation, NTP; the import "
            "goes on once the clock has passed the cursor, and nothing is lost meanwhile), or "
            "the cursor was set in the future (set it to a time before the failure, as the "
            "maintenance procedure says)"
        )
    return cursor


def parse_time(text: str) -> dt.datetime:
    """A time an operator typed: `YYYY.MM.DD HH:MM:SS.mmm` (UTC, the cursor's form) or ISO 8601
    (UTC when it names no zone); `ConfigurationError` (field "timestamp") otherwise."""
    try:
        return parse(f";{text.strip()}").position
    except CursorError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigurationError(
            f"{text!r} is not a time; expected YYYY.MM.DD HH:MM:SS.mmm (UTC) or ISO 8601",
            field="timestamp",
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
