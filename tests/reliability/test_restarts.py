"""PostgreSQL and the S3-compatible server restarting while three workers import, or while one
`callarchive import run --until-caught-up` does: nothing is lost or archived twice, the import
goes on by itself once the server is back (the next run, for the single command), and the fault
is said.

PostgreSQL: a cluster of the test's own (`servers.private_cluster`; the suite's shared server
must never stop), stopped with `pg_ctl stop -m fast` (every client disconnected, a clean
shutdown) or `-m immediate` (the server processes killed, a crash: the start replays the WAL)
while a worker is inside a window, then started again. Alerts live in that database, so the
fault is said in the workers' logs: the window stopped with "the database is unavailable", and
was tried again.

S3: moto in a helper process whose listener, and every connection it accepted, is closed and
later bound to the same port again (`servers.restartable_s3`), so the buckets and objects stay,
as on a real server's disk; killing moto's process would lose them (it keeps them in memory).
The S3 client retries a refused connection for about three seconds, so the outage lasts until a
window has failed on it; the database is up, so "Failed to retrieve next batch" says so in the
alert list.

Either way the worker whose window stopped tries it again after a pause of a second, doubling
(`scheduling.jobs.outage_pause`), instead of waiting for the next slot of the schedule.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import structlog

from callarchive.archive import Archive, DatabaseUnavailableError
from callarchive.clock import SystemClock
from callarchive.configuration import Server
from callarchive.scheduling import keep_alive
from callarchive.scheduling.queue import install_schema_when_available
from callarchive.secrets import SecretBox
from tests.archive.fixtures import BUCKET, POSTGRES_URL
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import POLICY
from tests.reliability.cluster import CODEC, NODES, Cluster, database_on, libpq
from tests.reliability.servers import (
    PrivateCluster,
    RestartableS3,
    private_cluster,
    restartable_s3,
)
from tests.scheduling.processes import PATIENCE_S, Fleet, fleet, running


@pytest.fixture
def postgres() -> Iterator[PrivateCluster]:
    with private_cluster() as cluster:
        yield cluster


@pytest.fixture
def s3() -> Iterator[RestartableS3]:
    with restartable_s3(BUCKET) as server:
        yield server


def configured(
    make_installation: InstallationFactory, database_url: str, s3: RestartableS3, homes: Path
) -> Cluster:
    # Calls every 10 minutes, each API call 60 ms: a day is 24 windows of an hour.
    installation = make_installation(database_url=database_url, calls_per_hour=6, latency_ms=60)
    return Cluster.configure(installation, s3.options, homes, batch_duration_min=60)


def started(cluster: Cluster, workers: Fleet) -> None:
    """The three workers, registered, and one of them inside the first window of the import
    job (the policy is enabled once all are up, so the import cannot be over before)."""
    cluster.installation.must("policy", "disable", POLICY)
    for name in NODES:
        cluster.start(workers, name)
    logged(workers, {}, "server_registered", by_all=True)
    before = mark(workers)
    cluster.installation.must("policy", "enable", POLICY)  # claimed at the next tick (15 s)
    logged(workers, before, "run_started")


def mark(workers: Fleet) -> dict[str, int]:
    """How many events each worker has logged so far (for `logged`)."""
    return {p.name: len(p.events) for p in workers.processes}


def logged(
    workers: Fleet,
    since: dict[str, int],
    name: str,
    *,
    by_all: bool = False,
    timeout: float = PATIENCE_S,
) -> list[dict[str, Any]]:
    """The events `name` logged since `since` (by every worker when `by_all`), waiting for the
    first (or one of each worker) by polling the workers' logs for at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = {
            p.name: [e for e in p.events[since.get(p.name, 0) :] if e.get("event") == name]
            for p in workers.processes
        }
        events = [e for matches in found.values() for e in matches]
        if all(found.values()) if by_all else events:
            return events
        tails = "\n".join(f"{p.name}: {p.diagnostics()}" for p in workers.processes)
        assert time.monotonic() < deadline, f"no {name} within {timeout} s:\n{tails}"
        time.sleep(0.1)


def stop_all(workers: Fleet) -> list[int | None]:
    return [p.stop(signal.SIGTERM) for p in workers.processes]


def queue_workers_alive_since(database_url: str, since: dt.datetime) -> int:
    """procrastinate workers whose heartbeat is newer than `since` (each takes jobs), once all
    three are, or as many as are after `PATIENCE_S`."""
    deadline = time.monotonic() + PATIENCE_S
    while True:
        with psycopg.connect(libpq(database_url)) as connection:
            row = connection.execute(
                "SELECT count(*) FROM procrastinate.procrastinate_workers "
                "WHERE last_heartbeat > %s",
                (since,),
            ).fetchone()
        alive = int(row[0]) if row else 0
        if alive >= len(NODES) or time.monotonic() >= deadline:
            return alive
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgresql_restarting_mid_window_loses_nothing_and_the_import_goes_on(
    make_installation: InstallationFactory,
    postgres: PrivateCluster,
    s3: RestartableS3,
    tmp_path: Path,
    mode: str,
) -> None:
    with database_on(postgres.url) as url:
        cluster = configured(make_installation, url, s3, tmp_path / "nodes")
        truth = cluster.installation.emulator.ground_truth(formats=CODEC)
        with fleet() as workers:
            started(cluster, workers)
            before = mark(workers)
            postgres.stop(mode)
            # Down until every worker has met the outage, and the window under way has failed
            # on it and is to be tried again (a restart shorter than the window's API calls
            # would go unnoticed by it).
            logged(workers, before, "heartbeat_failed", by_all=True)
            [pending, *_] = logged(workers, before, "window_retry_pending")
            postgres.start()
            back = dt.datetime.now(dt.UTC)
            assert pending["reason"].startswith("the database is unavailable"), pending
            assert "check that it is running and reachable" in pending["reason"], pending
            cluster.wait_caught_up(timeout=PATIENCE_S)
            assert cluster.lost_or_doubled(truth) == []
            # Every worker still takes jobs: its queue heartbeat goes on after the restart (one
            # still pausing before it reconnects beats once the pause is over).
            assert queue_workers_alive_since(url, back) == len(NODES)
            assert stop_all(workers) == [0, 0, 0]
        # Said in the alert list too, once the database was back.
        failed = alerts(url, "batch_retrieval_failed")
        assert any("the database is unavailable" in m for m in failed), failed
        assert cluster.violations(truth) == []


def alerts(database_url: str, kind: str) -> list[str]:
    with psycopg.connect(libpq(database_url)) as connection:
        rows = connection.execute(
            "SELECT title, message FROM alerts WHERE kind = %s", (kind,)
        ).fetchall()
    return [f"{title}: {message}" for title, message in rows]


@pytest.mark.slow
def test_the_s3_server_restarting_mid_window_loses_nothing_and_the_import_goes_on(
    make_installation: InstallationFactory, s3: RestartableS3, tmp_path: Path
) -> None:
    with database_on(POSTGRES_URL) as url:
        cluster = configured(make_installation, url, s3, tmp_path / "nodes")
        truth = cluster.installation.emulator.ground_truth(formats=CODEC)
        with fleet() as workers:
            started(cluster, workers)
            before = mark(workers)
            s3.stop()
            [stopped, *_] = logged(workers, before, "run_stopped")  # down until a window failed
            s3.start()
            assert stopped["outage"], stopped
            assert "the store failed on" in stopped["error"], stopped
            logged(workers, before, "window_retry_pending")
            cluster.wait_caught_up(timeout=PATIENCE_S)
            assert cluster.lost_or_doubled(truth) == []
            assert stop_all(workers) == [0, 0, 0]
        failed = alerts(url, "batch_retrieval_failed")
        assert failed, "the outage raised no alert"
        assert all("the store failed on" in m and "reachable" in m for m in failed), failed
        assert all("the window is done again once it is back" in m for m in failed), failed
        assert cluster.violations(truth) == []


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["s3", "postgresql"])
def test_one_import_run_stopped_by_a_restart_says_why_and_the_next_run_catches_up(
    make_installation: InstallationFactory,
    s3: RestartableS3,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    fault: str,
) -> None:
    postgres: PrivateCluster | None = None
    if fault == "postgresql":
        postgres = request.getfixturevalue("postgres")
    with database_on(postgres.url if postgres else POSTGRES_URL) as url:
        cluster = configured(make_installation, url, s3, tmp_path / "nodes")
        truth = cluster.installation.emulator.ground_truth(formats=CODEC)
        env = {**cluster.env, "CALLARCHIVE_HOME": str(tmp_path / "single")}
        env["CALLARCHIVE_LOG_JSON"] = "true"
        args = ["import", "run", "--policy", POLICY, "--until-caught-up"]
        with running(args, env) as first:
            first.event("run_started")
            first.event("run_started")  # the first window is done: the cursor is written
            if postgres is None:
                s3.stop()
            else:
                postgres.stop("immediate")
            exit_code = first.popen.wait(timeout=PATIENCE_S)
            if postgres is None:
                s3.start()
            else:
                postgres.start()
            first.close()
            said = "".join(first.stdout + first.other)
        assert exit_code != 0, said
        if postgres is None:
            assert "the store failed on" in said, said
            assert "the window is done again once it is back" in said, said
            assert re.search(r"stopped: \d{4}-\d\d-\d\d \d\d:\d\d\.\.", said), said  # its window
        else:
            assert "the database is unavailable" in said, said
        assert "check that it is" in said, said
        assert cluster.lost_or_doubled(truth) == []
        for _ in range(3):  # each run retries at most 25 CDRs of the retry buffer
            with running(args, env) as again:
                assert again.popen.wait(timeout=PATIENCE_S) == 0, again.diagnostics()
            if not cluster.holdings().buffered:
                break
        assert cluster.violations(truth) == []


class CountingClock(SystemClock):
    """The real clock, counting the pauses taken on it."""

    def __init__(self) -> None:
        self.pauses = 0

    async def sleep(self, seconds: float) -> None:
        self.pauses += 1
        await super().sleep(seconds)


async def test_a_node_started_while_postgresql_is_down_registers_once_it_is_back(
    postgres: PrivateCluster,
) -> None:
    with database_on(postgres.url) as url:
        archive = Archive.open(url, SecretBox([SecretBox.generate_key()]))
        try:
            await archive.upgrade()
            await asyncio.to_thread(postgres.stop, "fast")
            clock, stop = CountingClock(), asyncio.Event()
            beating = asyncio.create_task(
                keep_alive(archive, clock, server="node-a", host="host-a", stop=stop, every_s=0.05)
            )
            # Two tries while the database is down (it used to give up at the first for good).
            while clock.pauses < 2:
                assert not beating.done(), beating.exception()
                await asyncio.sleep(0.05)
            await asyncio.to_thread(postgres.start)
            deadline = time.monotonic() + 30
            while not [s for s in await _servers(archive) if s.host == "host-a"]:
                assert time.monotonic() < deadline, "node-a never registered"
                await asyncio.sleep(0.05)
            stop.set()
            await beating
        finally:
            await archive.close()


async def test_a_worker_started_while_postgresql_is_down_waits_for_it(
    postgres: PrivateCluster,
) -> None:
    with database_on(postgres.url) as url:
        await asyncio.to_thread(postgres.stop, "fast")
        clock = CountingClock()
        with structlog.testing.capture_logs() as logs:
            installing = asyncio.create_task(
                install_schema_when_available(url, clock, first_pause_s=0.05)
            )
            # Two tries while the database is down (it used to end the worker at the first).
            while clock.pauses < 2:
                assert not installing.done(), installing.exception()
                await asyncio.sleep(0.05)
            await asyncio.to_thread(postgres.start)
            await asyncio.wait_for(installing, timeout=60)
        with psycopg.connect(libpq(url)) as connection:
            row = connection.execute("SELECT to_regclass('procrastinate.procrastinate_jobs')")
            assert row.fetchone() == ("procrastinate.procrastinate_jobs",)
    waits = [e for e in logs if e["event"] == "database_unavailable"]
    assert len(waits) >= 2
    assert "connection" in waits[0]["error"].lower()
    assert [w["retry_in_s"] for w in waits[:2]] == [0.05, 0.1]


async def _servers(archive: Archive) -> list[Server]:
    try:
        return await archive.servers.list()
    except DatabaseUnavailableError:
        return []  # the pool's connections died with the server: the next one is new
