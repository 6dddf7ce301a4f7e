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
    """Register `server` on `host`, then send a heartbeat every `every_s` until `stop`. A node
    started while the database is away registers once it is back (until then it is not alive
    to the other nodes)."""
    registered = False
    while not stop.is_set():
        try:
            if registered:
                await archive.servers.heartbeat(server)
            else:
                await archive.servers.register(server, host=host)
                registered = True
                log.info("server_registered", server=server, host=host)
        except CallarchiveError as error:
            log.warning("heartbeat_failed", server=server, error=str(error))
        await sleep_unless(clock, every_s, stop)


def is_alive(server: Server, now: dt.datetime, *, stale_after: dt.timedelta = STALE_AFTER) -> bool:
    """True when `server` sent a heartbeat within `stale_after` of `now`."""
    return server.last_heartbeat is not None and now - server.last_heartbeat <= stale_after


__all__ = ["HEARTBEAT_S", "STALE_AFTER", "is_alive", "keep_alive"]
