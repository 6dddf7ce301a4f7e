"""Import windows: which slice of time one run covers (pure functions of `now`).

A run covers `[cursor, min(cursor + batch duration, now - max recording length - availability
delay))`: a conversation that started before the window's end has, by then, ended (it is shorter
than the maximum length) and had its media uploaded (the availability delay).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The synchronous details query reaches back 35 days (including today); older windows, and
# big backlogs, use the async details jobs.
QUERY_REACH = dt.timedelta(days=34)
QUERY_MAX_INTERVAL = dt.timedelta(days=7)


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    start: dt.datetime
    end: dt.datetime

    @property
    def empty(self) -> bool:
        return self.end <= self.start


def horizon(
    now: dt.datetime, *, max_recording_length: dt.timedelta, availability_delay: dt.timedelta
) -> dt.datetime:
    """The latest instant whose conversations are surely complete and available."""
    return now - max_recording_length - availability_delay


def next_window(
    cursor: dt.datetime,
    now: dt.datetime,
    *,
    batch: dt.timedelta,
    max_recording_length: dt.timedelta,
    availability_delay: dt.timedelta,
) -> Window:
    """The window a run starting at `cursor` covers (empty when nothing is due yet)."""
    limit = horizon(
        now, max_recording_length=max_recording_length, availability_delay=availability_delay
    )
    return Window(start=cursor, end=max(cursor, min(cursor + batch, limit)))


def needs_async_job(window: Window, now: dt.datetime) -> bool:
    """True when the synchronous query cannot serve the window (too old or too long)."""
    oldest = dt.datetime.combine(now.date(), dt.time(), dt.UTC) - QUERY_REACH
    return window.start < oldest or window.end - window.start > QUERY_MAX_INTERVAL


def lag(cursor: dt.datetime, now: dt.datetime) -> dt.timedelta:
    """How far the import is behind real time."""
    return max(dt.timedelta(), now - cursor)
