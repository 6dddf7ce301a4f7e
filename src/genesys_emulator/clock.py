"""The emulator's clock: real time plus an offset that tests move forward instead of sleeping.

Every answer carries the clock's time in its `Date` header, as an HTTP origin server with a clock
must (RFC 9110, section 6.6.1): clients can tell Genesys's time from their own.
"""

from __future__ import annotations

import datetime as dt
import threading
from email.utils import format_datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Clock:
    """Real UTC time shifted by an adjustable offset."""

    def __init__(self, offset: dt.timedelta = dt.timedelta()) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return dt.datetime.now(dt.UTC) + self._offset

    def advance(self, seconds: float) -> dt.datetime:
        """Move time forward (never backward: issued tokens and jobs depend on it)."""
        if seconds < 0:
            raise ValueError("the emulator clock only moves forward")
        with self._lock:
            self._offset += dt.timedelta(seconds=seconds)
        return self.now()

    def set(self, instant: dt.datetime) -> dt.datetime:
        """Jump to `instant` if it lies ahead of the current time."""
        return self.advance(max(0.0, (instant - self.now()).total_seconds()))


def to_iso(instant: dt.datetime) -> str:
    """Genesys's timestamp format: UTC with milliseconds and a Z."""
    utc = instant.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> dt.datetime:
    """Parse an ISO-8601 timestamp; naive ones are taken as UTC."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class DateHeader:
    """ASGI middleware: the `Date` header of every answer, from `clock` (the server's own, if
    any, is replaced: run uvicorn with `date_header=False`)."""

    def __init__(self, app: ASGIApp, clock: Clock) -> None:
        self._app = app
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                stamp = format_datetime(self._clock.now(), usegmt=True).encode()
                message = {**message, "headers": [*headers, (b"date", stamp)]}
            await send(message)

        await self._app(scope, receive, dated)
