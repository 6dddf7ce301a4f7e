"""The daily reconciliation job: each policy and import source's last finished day, once.

Every tick (a few minutes), for each enabled policy and each of its import sources this node may
run, the day due is the latest one (in the Recording Timezone) that ended before both the
import's horizon (now less the Maximum Recording Length and the Availability Delay) and its
cursor: its conversations have ended, uploaded and had their import run. That day is claimed in
the archive (once across nodes and restarts) and reconciled. A day found incomplete (missing or
retry-buffered conversations, or a failure) within the last week is claimed and reconciled
again a day later, so the status page follows the retries; a claim of a node that died is
taken over after an hour.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import structlog

from callarchive.archive import Archive, WorkStore, pair_folders
from callarchive.clock import Clock, sleep_unless
from callarchive.configuration import ImportSource, Policy
from callarchive.errors import CallarchiveError
from callarchive.imports.progress import read_cursor
from callarchive.imports.reconciliation import due_day, reconcilable
from callarchive.scheduling.due import runs_here

log = structlog.get_logger("callarchive.scheduling")

RECONCILE_TICK_S = 300.0
STALE_CLAIM = dt.timedelta(hours=1)
AGAIN_AFTER = dt.timedelta(hours=20)
RECHECK_DAYS = 7

DayJob = Callable[[Policy, ImportSource, dt.date], Awaitable[object]]


class DailyReconciliation:
    """Claims and runs the reconciliations due on the node `server`."""

    def __init__(
        self,
        *,
        archive: Archive,
        clock: Clock,
        work: WorkStore,
        server: str,
        reconcile: DayJob,
        tick_s: float = RECONCILE_TICK_S,
    ) -> None:
        self._archive = archive
        self._clock = clock
        self._work = work
        self._server = server
        self._reconcile = reconcile
        self._tick_s = tick_s

    async def tick(self) -> list[tuple[str, str, dt.date]]:
        """Reconcile what is due now; the (policy, import source, day) this node did."""
        done: list[tuple[str, str, dt.date]] = []
        sources = {s.name: s for s in await self._archive.import_sources.list()}
        for policy in await self._archive.policies.list():
            if not policy.enabled or policy.id is None or not runs_here(policy, self._server):
                continue
            for name in policy.import_sources:
                source = sources.get(name)
                if source is None or source.id is None:
                    continue
                for day in await self._days(policy, source):
                    if await self._archive.reconciliations.claim(
                        policy.id,
                        source.id,
                        day,
                        server=self._server,
                        stale_after=STALE_CLAIM,
                        again_after=AGAIN_AFTER,
                    ):
                        log.info(
                            "reconciliation_claimed", policy=policy.name, source=name, day=str(day)
                        )
                        await self._reconcile(policy, source, day)
                        done.append((policy.name, name, day))
        return done

    async def _days(self, policy: Policy, source: ImportSource) -> list[dt.date]:
        """The day due now, then incomplete days of the last week worth another look."""
        now = self._clock.now()
        cursor = await read_cursor(
            self._work,
            pair_folders(policy.id or 0, source.id or 0),
            recording_start=source.recording_start,
            now=now,
        )
        span = reconcilable(source, now)
        day = due_day(
            limit=min(span.end, cursor.position),
            start=span.start,
            timezone=source.recording_timezone,
        )
        if day is None:
            return []
        stored = await self._archive.reconciliations.list(
            policy_id=policy.id, import_source_id=source.id, limit=RECHECK_DAYS
        )
        week = day - dt.timedelta(days=RECHECK_DAYS)
        again = [r.day for r in stored if r.day != day and r.day > week and not r.complete]
        return [day, *again]

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set; a failing tick is logged and tried again."""
        while not stop.is_set():
            try:
                await self.tick()
            except CallarchiveError as error:
                log.warning("reconciliation_tick_failed", error=str(error))
            await sleep_unless(self._clock, self._tick_s, stop)


__all__ = ["RECONCILE_TICK_S", "DailyReconciliation", "DayJob"]
