"""Three `callarchive worker` processes on a real PostgreSQL and an S3-compatible store import the
emulated org into one archive exactly as a single node does, and take over the job of a worker
killed with SIGKILL in the middle of a window; pinned policies run only on their servers."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from callarchive.archive import S3Options, WorkStore, pair_folders
from callarchive.imports.cursor import parse as parse_cursor
from callarchive.secrets import key_file_path
from tests.archive.fixtures import BUCKET, POSTGRES_URL
from tests.imports.completeness import assert_archive_is_ground_truth, wanted
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import POLICY, SOURCE, Installation
from tests.scheduling.processes import Fleet, fleet

CODEC = "WAV"
PINNED = "Pinned"
NODES = ("node-a", "node-b", "node-c")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """An empty PostgreSQL database of this test (the queue's schema is created in it)."""
    name = f"callarchive_workers_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclasses.dataclass
class Cluster:
    installation: Installation
    env: dict[str, str]
    work: WorkStore
    homes: Path

    def start(self, workers: Fleet, name: str) -> None:
        args = ["worker", "--server", name, "--port", "0", "--concurrency", "2"]
        # A job is stalled after 10 s without a heartbeat: with 3 s, a live worker's heartbeat
        # ran late under load, its job was closed as stalled before the kill, and no takeover
        # followed the kill.
        args += ["--heartbeat-s", "1", "--stalled-after-s", "10"]
        workers.start(name, args, {**self.env, "CALLARCHIVE_HOME": str(self.homes / name)})


@pytest.fixture
def cluster(
    make_installation: InstallationFactory,
    fresh_postgres: str,
    s3_server: S3Options,
    tmp_path: Path,
) -> Cluster:
    installation = make_installation(database_url=fresh_postgres)
    installation.configure(codec=CODEC, batch_duration_min=60)
    installation.must(
        "policy", "add", "--name", PINNED, "--source", SOURCE, "--every-minutes", "5",
        "--server", "node-b", "--server", "node-c",
    )  # fmt: skip
    prefix = f"s3://{BUCKET}/{secrets.token_hex(6)}"
    key = ",".join(key_file_path(installation.home).read_text().split())
    assert s3_server.secret_access_key is not None
    env = {
        "CALLARCHIVE_DATABASE_URL": fresh_postgres,
        "CALLARCHIVE_MEDIA_URL": f"{prefix}/media",
        "CALLARCHIVE_WORK_URL": f"{prefix}/work",
        "CALLARCHIVE_S3_ENDPOINT_URL": s3_server.endpoint_url or "",
        "CALLARCHIVE_S3_REGION": s3_server.region,
        "CALLARCHIVE_S3_ACCESS_KEY_ID": s3_server.access_key_id or "",
        "CALLARCHIVE_S3_SECRET_ACCESS_KEY": s3_server.secret_access_key.reveal(),
        "CALLARCHIVE_SECRET_KEY": key,
        "CALLARCHIVE_LOG_LEVEL": "info",
    }
    work = WorkStore.from_url(f"{prefix}/work", s3=s3_server)
    return Cluster(installation=installation, env=env, work=work, homes=tmp_path / "nodes")


async def _retry_buffer_files(work: WorkStore) -> list[str]:
    keys = await work.list("cdrimport/GenesysCloud/retryBuffer/")
    inflight = await work.list("cdrimport/GenesysCloud/work/")
    return [k for k in [*keys, *inflight] if k.endswith(".xml")]


@pytest.mark.slow
def test_three_workers_import_once_and_take_over_a_killed_workers_job(
    cluster: Cluster,
) -> None:
    installation = cluster.installation
    truth = installation.emulator.ground_truth(formats=CODEC)
    policy_id = 1  # the first policy of the configuration
    with fleet() as workers:
        for name in NODES:
            cluster.start(workers, name)
        # The unpinned policy's job starts on one worker; kill it in its third window.
        victim, _ = workers.event("job_started", policy=POLICY)
        for _ in range(3):
            workers.event("run_started", process=victim, policy_id=policy_id)
        victim.popen.send_signal(signal.SIGKILL)
        victim.popen.wait(timeout=30)
        # Another worker sees the dead worker's job, puts it back, and finishes the import.
        rescuer, retried = workers.event("stalled_job_retried")
        assert rescuer is not victim
        taker, finished = workers.event("job_finished", policy=POLICY)
        assert taker is not victim
        assert finished["windows"] >= 1
        survivors = [p for p in workers.processes if p is not victim]
        pinned = [e for p in survivors for e in p.events if e.get("event") == "job_finished"]
        if not any(e.get("policy") == PINNED for e in pinned):
            workers.event("job_finished", policy=PINNED)
        # SIGTERM: each survivor finishes what it runs and exits cleanly.
        assert [p.stop(signal.SIGTERM) for p in survivors] == [0, 0]
        started = {
            (p.name, e["policy"])
            for p in workers.processes
            for e in p.events
            if e.get("event") == "job_started"
        }
        retries = sum(
            e.get("event") == "stalled_job_retried" for p in workers.processes for e in p.events
        )
        moved = sum(
            e.get("event") == "waiting_job_moved" for p in workers.processes for e in p.events
        )
    # Pinned to node-b and node-c: never run on node-a.
    assert {name for name, policy in started if policy == PINNED} <= {"node-b", "node-c"}
    assert {policy for _, policy in started} == {POLICY, PINNED}
    # The archive is the ground truth: every conversation once, with its media, nothing lost.
    records = installation.exported()
    assert_archive_is_ground_truth(records, truth, CODEC)
    assert len(records) == len(wanted(truth))
    assert asyncio.run(_retry_buffer_files(cluster.work)) == []
    assert retried["queue"] in ("imports", "server-node-b", "server-node-c")
    # Each due run was enqueued once, however many nodes' schedulers saw it due. A job still
    # waiting on the queue of the killed server when its heartbeat went stale was moved to a live
    # server's queue: cancelled there and enqueued again, one cancelled job per move.
    with psycopg.connect(_libpq(installation.database_url)) as connection:
        jobs = connection.execute(
            "SELECT args->>'policy_id', args->>'import_source_id', args->>'due_at', "
            "count(*) FILTER (WHERE status <> 'cancelled'), "
            "count(*) FILTER (WHERE status = 'cancelled') "
            "FROM procrastinate.procrastinate_jobs GROUP BY 1, 2, 3"
        ).fetchall()
        taken_over = connection.execute(
            "SELECT title, severity, message, policy_id FROM alerts WHERE kind = %s",
            ("import_taken_over",),
        ).fetchall()
    assert jobs
    assert all(enqueued == 1 for *_, enqueued, _ in jobs), jobs
    assert sum(cancelled for *_, cancelled in jobs) == moved, (jobs, moved)
    # The operator hears of the stopped server: an alert per job taken over (the victim may
    # have run both policies' jobs), naming the policy and saying what happened.
    assert len(taken_over) == retries, taken_over
    assert {(title, severity) for title, severity, *_ in taken_over} == {
        ("Import taken over from a stopped server", "Warning")
    }
    message = next(m for _, _, m, _ in taken_over if f"policy '{POLICY}'" in m)
    assert "no heartbeat" in message
    assert "another server takes it over" in message
    assert all(policy is not None for *_, policy in taken_over)


@pytest.mark.slow
def test_sigterm_lets_a_workers_current_window_finish_then_it_exits(cluster: Cluster) -> None:
    with fleet() as workers:
        cluster.start(workers, "node-a")
        node, _ = workers.event("job_started", policy=POLICY)
        workers.event("run_finished", process=node)
        _, current = workers.event("run_started", process=node)
        assert node.stop(signal.SIGTERM) == 0
    names = [e.get("event") for e in node.events]
    # The window that was running when SIGTERM came finished; no other started after it.
    after = names[names.index("run_started", names.index("run_finished") + 1) :]
    assert after.count("run_started") == 1
    assert "run_finished" in after
    [finished] = [e for e in node.events if e.get("event") == "job_finished"]
    assert finished["stopping"] is True
    data = asyncio.run(cluster.work.get(pair_folders(1, 1).cursor))
    assert data is not None
    assert parse_cursor(data).position.isoformat() == current["window_end"]
    assert asyncio.run(_retry_buffer_files(cluster.work)) == []


def test_a_worker_stopped_the_moment_it_is_listening_exits_cleanly(cluster: Cluster) -> None:
    """SIGTERM while the worker is still starting (schema, store, queue) ends it with exit 0."""
    with fleet() as workers:
        cluster.start(workers, "node-a")
        [node] = workers.processes
        node.line("LISTENING")
        assert node.stop(signal.SIGTERM) == 0, node.diagnostics()
