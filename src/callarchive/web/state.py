"""What the web app works with: one `WebState` built by the wiring point and kept on the app.

Every I/O dependency (archive, media store, work store, clock, the Genesys probe and the "Run
now" hook) is given here, so tests build the app on their own parts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable

from fastapi import Request

from callarchive.archive import Archive, ObjectStore, WorkStore
from callarchive.clock import Clock, SystemClock
from callarchive.imports import SourceProbe

RunNow = Callable[[int, int], Awaitable[None]]
"""Start a run of (policy id, import source id) now, in the background."""


@dataclasses.dataclass(kw_only=True)
class WebState:
    """The web app's dependencies and settings."""

    archive: Archive
    media: ObjectStore
    work: WorkStore | None = None
    clock: Clock = dataclasses.field(default_factory=SystemClock)
    secure_cookies: bool = False
    session_idle: dt.timedelta = dt.timedelta(minutes=30)
    session_lifetime: dt.timedelta = dt.timedelta(hours=12)
    run_now: RunNow | None = None
    server: str = "callarchive"
    probe: SourceProbe | None = None
    tls: bool = False

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        return self.clock.now()


def web_state(request: Request) -> WebState:
    """The state of the app serving `request`."""
    state: WebState = request.app.state.web
    return state


__all__ = ["RunNow", "WebState", "web_state"]
