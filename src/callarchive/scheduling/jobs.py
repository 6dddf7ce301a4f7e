"""A scheduled job of one policy and import source: windows until caught up, stopping cleanly.

A job runs one import window after another (each an `ImportRun` under the pair's run lock) until
the import has caught up with real time. Between two windows it looks again: a policy that was
disabled (the seed's maintenance procedure), a server that may no longer run it, or a node that
is shutting down (SIGTERM) ends the job there. A window is never cut off: its cursor moves only
when it is complete.

A window stopped because the database or a store could not be reached (a restart, a network
outage) is tried again by the same job after a pause (`outage_pause`: 1 s, doubling up to 30 s,
about eight minutes in all), not at the next slot of the schedule, which may be hours away.
When the database itself was away the run could not store its alert; the job raises it once
the import went on, so the outage shows in the alert list, not only in the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import structlog

from callarchive.alerts import Alert, Alerter, AlertKind, ArchiveAlertSink
from callarchive.archive import Archive, DatabaseUnavailableError, StoreUnavailableError
from callarchive.clock import Clock, sleep_unless
from callarchive.configuration import ImportSource, Policy
from callarchive.errors import CallarchiveError, ConfigurationError, RetryableError
from callarchive.imports import RunResult
from callarchive.scheduling.due import runs_here

log = structlog.get_logger("callarchive.scheduling")

# A bound on one job: the next slot continues where this one stopped.
MAX_WINDOWS = 48
# Windows stopped by an outage that one job tries again, and the pauses before doing so.
OUTAGE_RETRIES = 20
OUTAGE_FIRST_PAUSE_S = 1.0
OUTAGE_MAX_PAUSE_S = 30.0

WindowRunner = Callable[[], Awaitable[RunResult]]


class PairOpener(Protocol):
    """Opens what runs the windows of one pair (its Genesys client); given by the wiring."""

    def __call__(
        self, policy: Policy, source: ImportSource
    ) -> AbstractAsyncContextManager[WindowRunner]: ...


def outage_pause(retried: int) -> float | None:
    """Seconds to wait before trying a window stopped by an outage again, after `retried`
    earlier tries in this job; None once the job has tried often enough (the next slot goes on)."""
    if retried >= OUTAGE_RETRIES:
        return None
    return min(OUTAGE_FIRST_PAUSE_S * 2.0**retried, OUTAGE_MAX_PAUSE_S)


async def run_windows(
    run_window: WindowRunner,
    *,
    wanted: Callable[[], Awaitable[bool]],
    stopping: asyncio.Event,
    max_windows: int = MAX_WINDOWS,
    results: list[RunResult] | None = None,
) -> list[RunResult]:
    """Run windows while `wanted()` and not `stopping`, until caught up or `max_windows`;
    their results, settled (`RunResult.settled`), appended to `results` when given (kept when
    a window raises)."""
    results = [] if results is None else results
    before = len(results)
    while len(results) - before < max_windows and not stopping.is_set() and await wanted():
        result = await run_window()
        results.append(result.settled())
        if result.caught_up:
            break
    return results


async def execute_pair(
    archive: Archive,
    policy_id: int,
    import_source_id: int,
    *,
    server: str,
    open_pair: PairOpener,
    stopping: asyncio.Event,
    clock: Clock,
    max_windows: int = MAX_WINDOWS,
) -> list[RunResult]:
    """The job of one pair on `server`; nothing when the policy is gone, disabled or pinned
    elsewhere, or when another run of the pair holds its lock. A window stopped by an outage of
    the database or a store is tried again after `outage_pause`."""

    async def wanted() -> bool:
        try:
            policy = await archive.policies.get_by_id(policy_id)
        except ConfigurationError:
            return False
        return policy.enabled and runs_here(policy, server)

    if not await wanted():
        return []
    policy = await archive.policies.get_by_id(policy_id)
    source = await archive.import_sources.get_by_id(import_source_id)
    context = {"policy": policy.name, "import_source": source.name, "server": server}
    log.info("job_started", **context)
    results: list[RunResult] = []
    retried = 0
    unsaid: str | None = None  # an outage no alert could be stored for
    while True:
        tried = len(results)
        try:
            async with open_pair(policy, source) as run_window:
                done = [r for r in results if not r.outage]
                await run_windows(
                    run_window,
                    wanted=wanted,
                    stopping=stopping,
                    max_windows=max_windows - len(done),
                    results=results,
                )
        except (DatabaseUnavailableError, StoreUnavailableError) as error:
            outage = str(error)  # the run could not even say so in an alert
            unsaid = unsaid or outage
        except RetryableError as error:
            # Another run of the pair is going (its lock): that one does the work. An outage met
            # before (a restart that stopped this node's heartbeat, so the pair was taken over)
            # is still said: only this job knows of it.
            log.warning("job_skipped", reason=str(error), **context)
            if unsaid is not None:
                await _alert_afterwards(archive, policy, source, unsaid, retried=retried)
            return results
        else:
            # No window this time (caught up, disabled, stopping), or the last one went well.
            if len(results) == tried or not results[-1].outage:
                break
            outage = results[-1].message
        pause = outage_pause(retried)
        if pause is None or stopping.is_set():
            log.warning("job_gave_up", reason=outage, retried=retried, **context)
            return results
        retried += 1
        log.warning("window_retry_pending", reason=outage, pause_s=pause, retry=retried, **context)
        await sleep_unless(clock, pause, stopping)
    if unsaid is not None:
        await _alert_afterwards(archive, policy, source, unsaid, retried=retried)
    log.info("job_finished", windows=len(results), stopping=stopping.is_set(), **context)
    return results


async def _alert_afterwards(
    archive: Archive, policy: Policy, source: ImportSource, outage: str, *, retried: int
) -> None:
    """Raise the alert of an outage that could not be stored while it lasted."""
    alert = Alert(
        kind=AlertKind.BATCH_RETRIEVAL_FAILED,
        message=(
            f"{outage} (not raised as an alert then); the window was tried again "
            f"{retried} time(s) and the import went on: nothing behind the cursor was lost"
        ),
        policy_id=policy.id,
        import_source_id=source.id,
    )
    try:
        await Alerter(ArchiveAlertSink(archive)).raise_(alert)
    except CallarchiveError as error:
        log.warning("alert_not_raised", kind=alert.kind.value, error=str(error))


__all__ = [
    "MAX_WINDOWS",
    "OUTAGE_RETRIES",
    "PairOpener",
    "WindowRunner",
    "execute_pair",
    "outage_pause",
    "run_windows",
]
