"""Three `callarchive worker` processes on PostgreSQL and S3, killed with SIGKILL 50 times at
seeded random moments (each killed worker started again at once), import the emulated org into
one archive: the ground truth, once, with nothing lost or left over.

15 kills hit the worker running the import job (0.05 to 0.6 s after one of its windows began),
35 a worker that is up but idle; the job of a killed worker is taken over by another once its
heartbeat is older than `--stalled-after-s`. Every 10 kills, the cursor has passed nothing
without a durable outcome and nothing is archived twice; at the end the invariant holds.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from callarchive.archive import S3Options
from tests.archive.fixtures import POSTGRES_URL
from tests.imports.conftest import InstallationFactory
from tests.reliability.cluster import CODEC, NODES, Cluster, database_on, libpq
from tests.scheduling.processes import PATIENCE_S, Fleet, Process, fleet

SEED = 50
KILLS = 50
# Kills of the worker running the import job, 0.05 to 0.6 s after one of its windows began;
# the others hit a worker that is up but idle.
BUSY_KILLS = 15
KILL_AFTER_S = (0.05, 0.6)


@pytest.fixture
def cluster(
    make_installation: InstallationFactory, s3_server: S3Options, tmp_path: Path
) -> Iterator[Cluster]:
    with database_on(POSTGRES_URL) as database_url:
        # Calls every 10 minutes, each API call 60 ms: the import spans the kills.
        installation = make_installation(database_url=database_url, calls_per_hour=6, latency_ms=60)
        yield Cluster.configure(installation, s3_server, tmp_path / "nodes", batch_duration_min=30)


def idle_victim(workers: Fleet, rng: random.Random) -> Process | None:
    """A live worker that has started (logged something) and runs no window, if any."""
    up = [
        p
        for p in workers.processes
        if p.popen.poll() is None
        and p.events
        and not any(e.get("event") == "run_started" for e in p.events[-3:])
    ]
    return rng.choice(up) if up else None


@pytest.mark.slow
def test_fifty_sigkills_across_three_workers_lose_nothing_and_duplicate_nothing(
    cluster: Cluster,
) -> None:
    truth = cluster.installation.emulator.ground_truth(formats=CODEC)
    rng = random.Random(SEED)
    with fleet() as workers:
        live = {name: cluster.start(workers, name) for name in NODES}
        kills: list[tuple[str, str]] = []
        while len(kills) < KILLS:
            busy = sum(kind == "busy" for _, kind in kills)
            if busy < BUSY_KILLS and (
                len(kills) - busy >= KILLS - BUSY_KILLS or rng.random() < 0.5
            ):
                victim, _ = workers.event("run_started")
                kind = "busy"
            else:
                victim = idle_victim(workers, rng)
                kind = "idle"
            if victim is None or victim.popen.poll() is not None:
                time.sleep(0.1)
                continue
            time.sleep(rng.uniform(*KILL_AFTER_S))
            victim.popen.send_signal(signal.SIGKILL)
            victim.popen.wait(timeout=30)
            kills.append((victim.name, kind))
            live[victim.name] = cluster.start(workers, victim.name)
            if len(kills) % 10 == 0:
                assert cluster.lost_or_doubled(truth) == [], f"after {len(kills)} kills"
        cluster.wait_caught_up(timeout=PATIENCE_S)
        for process in live.values():
            process.line("LISTENING")  # a worker restarted after the last kill has started
        assert [p.stop(signal.SIGTERM) for p in live.values()] == [0, 0, 0]
        retries = sum(
            e.get("event") == "stalled_job_retried" for p in workers.processes for e in p.events
        )
    assert cluster.violations(truth) == []
    # Each job taken over from a killed worker raised its alert (a rescuer killed between
    # putting the job back and raising the alert may leave one out).
    with psycopg.connect(libpq(cluster.installation.database_url)) as connection:
        alerts = connection.execute(
            "SELECT count(*) FROM alerts WHERE kind = 'import_taken_over'"
        ).fetchone()
    assert retries >= 1
    assert alerts is not None
    assert 1 <= alerts[0] <= retries
