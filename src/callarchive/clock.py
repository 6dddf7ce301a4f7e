"""Time as a parameter: the `Clock` every component takes instead of reading the system time.

`SystemClock` is the real one. `FakeClock` is the test double: `sleep` moves its time forward at
once, so code that waits (pacing, backoff, polling) runs instantly and deterministically in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time (UTC, timezone-aware), a monotonic reading, and sleeping."""

    def now(self) -> dt.datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to, or when someone sleeps on it."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self._monotonic = 0.0
        self.slept: list[float] = []

    def now(self) -> dt.datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self._now += dt.timedelta(seconds=seconds)
        self._monotonic += seconds

    def jump(self, seconds: float) -> None:
        """Set the wall clock forward (or back, when negative) without time passing: what an
        operator or a time synchronisation (NTP) does; the monotonic reading does not move."""
        self._now += dt.timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


async def sleep_unless(clock: Clock, seconds: float, stop: asyncio.Event) -> None:
    """Sleep on `clock` for `seconds`, returning early when `stop` is set."""
    sleeping = asyncio.ensure_future(clock.sleep(seconds))
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeping, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeping, stopped):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
