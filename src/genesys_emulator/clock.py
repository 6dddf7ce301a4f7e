"""The emulator's clock: real time plus an offset that tests move forward instead of sleeping."""

from __future__ import annotations

import datetime as dt
import threading


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
