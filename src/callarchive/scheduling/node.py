"""A node's presence: it registers as a server and sends heartbeats while it runs.

`callarchive server list` shows every server with its host and last heartbeat; a server whose
heartbeat is older than `STALE_AFTER` is shown as not responding.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import structlog

from callarchive.archive import Archive
from callarchive.clock import Clock, sleep_unless
from callarchive.configuration import Server
from callarchive.errors import CallarchiveError

log = structlog.get_logger("callarchive.scheduling")

HEARTBEAT_S = 30.0
STALE_AFTER = dt.timedelta(seconds=3 * HEARTBEAT_S)


async def keep_alive(
    archive: Archive,
    clock: Clock,
    *,
    server: str,
    host: str,
    stop: asyncio.Event,
    every_s: float = HEARTBEAT_S,
) -> None:
    """Register `server` on `host`, then send a heartbeat every `every_s` until `stop`."""
    await archive.servers.register(server, host=host)
    log.info("server_registered", server=server, host=host)
    while not stop.is_set():
        await sleep_unless(clock, every_s, stop)
        try:
            await archive.servers.heartbeat(server)
        except CallarchiveError as error:
            log.warning("heartbeat_failed", server=server, error=str(error))


def is_alive(server: Server, now: dt.datetime, *, stale_after: dt.timedelta = STALE_AFTER) -> bool:
    """True when `server` sent a heartbeat within `stale_after` of `now`."""
    return server.last_heartbeat is not None and now - server.last_heartbeat <= stale_after


__all__ = ["HEARTBEAT_S", "STALE_AFTER", "is_alive", "keep_alive"]
