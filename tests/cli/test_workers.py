"""A worker node keeps taking jobs: procrastinate's worker, stopped by itself when PostgreSQL
went away (its heartbeat or listener failed), or unable to start while it is away, is started
again after a pause until the node stops."""

from __future__ import annotations

import asyncio

from procrastinate.exceptions import ConnectorException

from callarchive.cli.workers import RESTART_PAUSE_S, keep_taking_jobs
from callarchive.clock import FakeClock


class LosesTheDatabaseTwice:
    """A queue worker that stops by itself, then cannot start, then runs until the node stops."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.runs = 0
        self._stop = stop

    async def run(self) -> None:
        self.runs += 1
        if self.runs == 1:
            return  # its heartbeat failed on a lost connection: it stopped
        if self.runs == 2:
            raise ConnectorException("connection refused")  # registering failed: still down
        self._stop.set()  # the node stops (SIGTERM) while it runs


async def test_a_queue_worker_that_stopped_by_itself_is_started_again_until_the_node_stops() -> (
    None
):
    stop = asyncio.Event()
    clock = FakeClock()
    worker = LosesTheDatabaseTwice(stop)
    await asyncio.wait_for(keep_taking_jobs(worker, clock, stop), timeout=10)
    assert worker.runs == 3
    assert clock.slept == [RESTART_PAUSE_S, RESTART_PAUSE_S]


async def test_a_stopping_node_does_not_start_its_queue_worker_again() -> None:
    stop = asyncio.Event()
    stop.set()
    worker = LosesTheDatabaseTwice(asyncio.Event())
    await keep_taking_jobs(worker, FakeClock(), stop)
    assert worker.runs == 0
