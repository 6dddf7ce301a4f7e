"""The scheduler: every tick, claim the due runs this node may start and hand them on.

`Scheduler.tick` reads the policies, works out which runs are due (`due_runs`), skips a pair
whose job is still going here, and claims each due run in the archive; a claim succeeds once
per slot across every node and restart, so a due run is never started twice. A claimed run goes
to a `Dispatcher`: `LocalDispatcher` runs it in this process (`callarchive serve`); the queue
dispatcher of `callarchive worker` enqueues it for the workers.

The scheduler's time is the wall clock, except that it never runs backwards: when the wall clock
is set back (an NTP correction, an operator), slots are counted on from where the scheduler was,
at the pace of the monotonic clock, because the slots of the repeated hour are claimed already and
would not fire again until the wall clock caught up. A scheduler that starts with the wall clock
behind the newest claim starts from that claim. When the wall clock leaps forward, the scheduler
follows it, and the current slot is the one due: one run, not one per slot leapt over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import structlog

from callarchive.archive import Archive
from callarchive.clock import Clock, sleep_unless
from callarchive.errors import CallarchiveError
from callarchive.scheduling.due import DueRun, due_runs

log = structlog.get_logger("callarchive.scheduling")

TICK_S = 15.0
# Claims older than this cannot be due again; they are deleted (once an hour).
KEEP_CLAIMS = dt.timedelta(days=7)
PRUNE_EVERY = dt.timedelta(hours=1)
# How far the wall clock may fall behind the scheduler's time before it counts as set back
# (the wall clock and the monotonic one drift apart by a little under time synchronisation).
BACKWARDS_TOLERANCE = dt.timedelta(seconds=2)


class Dispatcher(Protocol):
    """Where claimed runs go."""

    def busy(self, run: DueRun) -> bool:
        """True while a job of the run's pair is going here (the run is not claimed yet)."""
        ...

    async def dispatch(self, run: DueRun) -> None: ...


class Scheduler:
    """Claims due runs for the node `server` and dispatches them."""

    def __init__(
        self,
        *,
        archive: Archive,
        clock: Clock,
        server: str,
        dispatcher: Dispatcher,
        tick_s: float = TICK_S,
    ) -> None:
        self._archive = archive
        self._clock = clock
        self._server = server
        self._dispatcher = dispatcher
        self._tick_s = tick_s
        self._pruned: dt.datetime | None = None
        self._reading: tuple[dt.datetime, float] | None = None  # (time, monotonic) last tick
        self._behind = False  # the wall clock is behind the scheduler's time

    async def now(self) -> dt.datetime:
        """The scheduler's time: the wall clock, never behind the last tick's time plus the
        monotonic time elapsed since (nor, at the first tick, behind the newest claim)."""
        wall, monotonic = self._clock.now(), self._clock.monotonic()
        if self._reading is None:
            claims = await self._archive.scheduled_runs.list(limit=1)
            steady = claims[0].due_at if claims else wall
        else:
            at, then = self._reading
            steady = at + dt.timedelta(seconds=max(0.0, monotonic - then))
        now = steady if wall < steady - BACKWARDS_TOLERANCE else wall
        self._note_backwards(wall, now)
        self._reading = (now, monotonic)
        return now

    def _note_backwards(self, wall: dt.datetime, now: dt.datetime) -> None:
        """Log when the wall clock falls behind the scheduler's time, and when it is back."""
        behind = wall < now
        if behind and not self._behind:
            log.warning(
                "clock_moved_backwards",
                server=self._server,
                wall_clock=wall.isoformat(),
                scheduler_time=now.isoformat(),
                behind_s=round((now - wall).total_seconds(), 3),
            )
        elif self._behind and not behind:
            log.info("clock_caught_up", server=self._server, wall_clock=wall.isoformat())
        self._behind = behind

    async def tick(self) -> list[DueRun]:
        """Claim and dispatch what is due now; the runs this node claimed."""
        now = await self.now()
        policies = await self._archive.policies.list()
        sources = {s.name: s.id for s in await self._archive.import_sources.list() if s.id}
        claimed: list[DueRun] = []
        for run in due_runs(policies, sources, server=self._server, now=now):
            if self._dispatcher.busy(run):
                continue
            if not await self._archive.scheduled_runs.claim(
                run.policy_id, run.import_source_id, run.due_at, server=self._server
            ):
                continue
            log.info(
                "run_claimed",
                policy=run.policy,
                import_source=run.source,
                due_at=run.due_at.isoformat(),
                server=self._server,
            )
            await self._dispatcher.dispatch(run)
            claimed.append(run)
        if self._pruned is None or now - self._pruned >= PRUNE_EVERY:
            await self._archive.scheduled_runs.prune(now - KEEP_CLAIMS)
            self._pruned = now
        return claimed

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set; a failing tick (database away) is logged and retried."""
        while not stop.is_set():
            try:
                await self.tick()
            except CallarchiveError as error:
                log.warning("schedule_tick_failed", error=str(error))
            await sleep_unless(self._clock, self._tick_s, stop)


Job = Callable[[DueRun], Coroutine[Any, Any, object]]


class LocalDispatcher:
    """Runs claimed runs as tasks of this process, one job per pair at a time."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self._running: dict[tuple[int, int], asyncio.Task[object]] = {}

    def busy(self, run: DueRun) -> bool:
        return run.pair in self._running

    async def dispatch(self, run: DueRun) -> None:
        task: asyncio.Task[object] = asyncio.create_task(
            self._job(run), name=f"job {run.policy}/{run.source}"
        )
        self._running[run.pair] = task
        task.add_done_callback(lambda done: self._finished(run, done))

    def _finished(self, run: DueRun, task: asyncio.Task[object]) -> None:
        self._running.pop(run.pair, None)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "job_failed",
                policy=run.policy,
                import_source=run.source,
                error=repr(task.exception()),
            )

    async def wait(self) -> None:
        """Until every job dispatched so far has finished."""
        while self._running:
            await asyncio.wait(list(self._running.values()))


__all__ = ["BACKWARDS_TOLERANCE", "TICK_S", "Dispatcher", "Job", "LocalDispatcher", "Scheduler"]
