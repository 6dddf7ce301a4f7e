"""A scheduled job of one policy and import source: windows until caught up, stopping cleanly.

A job runs one import window after another (each an `ImportRun` under the pair's run lock) until
the import has caught up with real time. Between two windows it looks again: a policy that was
disabled (the seed's maintenance procedure), a server that may no longer run it, or a node that
is shutting down (SIGTERM) ends the job there. A window is never cut off: its cursor moves only
when it is complete.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import structlog

from callarchive.archive import Archive
from callarchive.configuration import ImportSource, Policy
from callarchive.errors import ConfigurationError, RetryableError
from callarchive.imports import RunResult
from callarchive.scheduling.due import runs_here

log = structlog.get_logger("callarchive.scheduling")

# A bound on one job: the next slot continues where this one stopped.
MAX_WINDOWS = 48

WindowRunner = Callable[[], Awaitable[RunResult]]


class PairOpener(Protocol):
    """Opens what runs the windows of one pair (its Genesys client); given by the wiring."""

    def __call__(
        self, policy: Policy, source: ImportSource
    ) -> AbstractAsyncContextManager[WindowRunner]: ...


async def run_windows(
    run_window: WindowRunner,
    *,
    wanted: Callable[[], Awaitable[bool]],
    stopping: asyncio.Event,
    max_windows: int = MAX_WINDOWS,
) -> list[RunResult]:
    """Run windows while `wanted()` and not `stopping`, until caught up or `max_windows`."""
    results: list[RunResult] = []
    while len(results) < max_windows and not stopping.is_set() and await wanted():
        result = await run_window()
        results.append(result)
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
    max_windows: int = MAX_WINDOWS,
) -> list[RunResult]:
    """The job of one pair on `server`; nothing when the policy is gone, disabled or pinned
    elsewhere, or when another run of the pair holds its lock."""

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
    try:
        async with open_pair(policy, source) as run_window:
            results = await run_windows(
                run_window, wanted=wanted, stopping=stopping, max_windows=max_windows
            )
    except RetryableError as error:
        # Another run of the pair is going (its lock), or the database or store is away.
        log.warning("job_skipped", reason=str(error), **context)
        return []
    log.info("job_finished", windows=len(results), stopping=stopping.is_set(), **context)
    return results


__all__ = ["MAX_WINDOWS", "PairOpener", "WindowRunner", "execute_pair", "run_windows"]
