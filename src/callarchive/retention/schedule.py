"""The daily retention job on a running node: once a day, on exactly one node.

From `RUN_AT` (UTC) each day, every node's loop tries to claim the day in the archive; the
claim succeeds once across nodes and restarts, and that node runs the job. A job that stopped
half-way (a crash, a store failure) is finished by the next day's run, which selects the same
conversations again.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import structlog

from callarchive.archive import Archive, ObjectStore
from callarchive.clock import Clock, sleep_unless
from callarchive.errors import CallarchiveError
from callarchive.retention.job import RetentionJob, RetentionOutcome

log = structlog.get_logger("callarchive.retention")

RUN_AT = dt.time(2, 0)  # UTC: a quiet hour for most regulated firms
CHECK_EVERY_S = 300.0


def due_day(now: dt.datetime, *, at: dt.time = RUN_AT) -> str | None:
    """The day (YYYY-MM-DD, UTC) whose retention job is due at `now`, or None before `at`."""
    moment = now.astimezone(dt.UTC)
    return moment.date().isoformat() if moment.time() >= at else None


async def run_if_due(
    archive: Archive,
    objects: ObjectStore,
    clock: Clock,
    *,
    server: str,
    at: dt.time = RUN_AT,
) -> RetentionOutcome | None:
    """Run today's job when it is due and this node claims it; its outcome, else None."""
    day = due_day(clock.now(), at=at)
    if day is None or not await archive.retention.claim_day(day, server=server):
        return None
    log.info("retention_started", day=day, server=server)
    try:
        outcome = await RetentionJob(archive, objects, clock).run()
    except CallarchiveError as error:
        await archive.retention.finish_day(day, deleted=0, error=str(error))
        raise
    await archive.retention.finish_day(day, deleted=len(outcome.conversations))
    return outcome


async def daily_retention(
    archive: Archive,
    objects: ObjectStore,
    clock: Clock,
    *,
    server: str,
    stop: asyncio.Event,
    every_s: float = CHECK_EVERY_S,
) -> None:
    """Check every `every_s` seconds until `stop`; a failing job is logged and left to the
    next day."""
    while not stop.is_set():
        try:
            await run_if_due(archive, objects, clock, server=server)
        except CallarchiveError as error:
            log.warning("retention_failed", error=str(error))
        await sleep_unless(clock, every_s, stop)


__all__ = ["CHECK_EVERY_S", "RUN_AT", "daily_retention", "due_day", "run_if_due"]
