"""How far the import of a policy and an import source has got, and when it will catch up.

The cursor file says where the import is (`read_cursor`; before the first run, the Recording
Start Timestamp). `progress` is a pure function of that position, `now` and the recent batch
reports: the lag behind real time, the share of the history from the Recording Start Timestamp
to now that is imported, and, from how fast the cursor advanced over the recent runs, when it
will be caught up. An import is caught up when only the horizon is left (the maximum recording
length plus the availability delay: what no run may import yet).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from callarchive.imports.cursor import CursorError, parse
from callarchive.imports.window import lag

if TYPE_CHECKING:
    from callarchive.archive import PairFolders, WorkStore

# A lag this close to the horizon counts as caught up (one run of a live schedule behind).
CAUGHT_UP_MARGIN = dt.timedelta(minutes=15)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CursorState:
    """The cursor file of a pair as found: its line, the position to use, and its problem."""

    key: str
    line: str | None  # None: no file yet
    position: dt.datetime  # the cursor's, or the Recording Start Timestamp without a usable file
    conversation_id: str = ""
    error: str | None = None  # why the file cannot be used (the run stops with an alert)


async def read_cursor(
    work: WorkStore, folders: PairFolders, *, recording_start: dt.datetime, now: dt.datetime
) -> CursorState:
    """The cursor of `folders`' pair, read from the work store."""
    data = await work.get(folders.cursor)
    start = recording_start.astimezone(dt.UTC)
    if data is None:
        return CursorState(key=folders.cursor, line=None, position=start)
    line = data.decode("utf-8", "replace").strip()
    try:
        found = parse(data, now=now, source=folders.cursor)
    except CursorError as error:
        return CursorState(key=folders.cursor, line=line, position=start, error=str(error))
    return CursorState(
        key=folders.cursor,
        line=line,
        position=found.position,
        conversation_id=found.conversation_id,
    )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Advance:
    """Where a run left the cursor (`position`) and when it finished (`at`)."""

    at: dt.datetime
    position: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Progress:
    """How far an import is: lag, imported share of its history, pace and time to catch up."""

    position: dt.datetime
    lag: dt.timedelta
    fraction: float  # (position - recording start) / (now - recording start), 0 to 1
    caught_up: bool
    rate: float | None  # history imported per second of real time; None: not known
    eta: dt.timedelta | None  # time to catch up; None: not known, or not catching up


def rate(advances: Sequence[Advance]) -> float | None:
    """Seconds of history the cursor moved per second of real time, from the first to the last
    of `advances` (in any order); None with fewer than two runs or no time between them."""
    if len(advances) < 2:
        return None
    ordered = sorted(advances, key=lambda a: a.at)
    elapsed = (ordered[-1].at - ordered[0].at).total_seconds()
    if elapsed <= 0:
        return None
    return (ordered[-1].position - ordered[0].position).total_seconds() / elapsed


def progress(
    position: dt.datetime,
    *,
    recording_start: dt.datetime,
    now: dt.datetime,
    horizon: dt.timedelta,
    advances: Sequence[Advance] = (),
) -> Progress:
    """The progress of an import at `position`; `horizon` is the lag that cannot be imported
    yet, `advances` the cursor positions after the recent runs."""
    behind = lag(position, now)
    history = (now - recording_start).total_seconds()
    done = (position - recording_start).total_seconds()
    fraction = 1.0 if history <= 0 else min(1.0, max(0.0, done / history))
    caught_up = behind <= horizon + CAUGHT_UP_MARGIN
    pace = rate(advances)
    eta: dt.timedelta | None = None
    if caught_up:
        eta = dt.timedelta()
    elif pace is not None and pace > 1:
        # The lag shrinks by (pace - 1) seconds per second: history goes by at pace, time at 1.
        eta = dt.timedelta(seconds=(behind - horizon).total_seconds() / (pace - 1))
    return Progress(
        position=position,
        lag=behind,
        fraction=fraction,
        caught_up=caught_up,
        rate=pace,
        eta=eta,
    )


__all__ = [
    "CAUGHT_UP_MARGIN",
    "Advance",
    "CursorState",
    "Progress",
    "progress",
    "rate",
    "read_cursor",
]
