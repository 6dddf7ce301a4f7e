"""Import jobs through procrastinate, for several nodes on one PostgreSQL (`callarchive worker`).

Every node's scheduler claims due runs in the archive (once across nodes) and enqueues each as
a job `callarchive.import_pair`:

- on the queue `imports`, which every worker takes from, or, for a policy with Execute Only on
  Selected Servers, on the queue `server-NAME` of one of its servers that is alive;
- with the procrastinate `lock` of its pair, so two jobs of one policy and import source never
  run at the same time on any nodes, and the same `queueing_lock`, so at most one waits;
- a job whose worker died (no heartbeat for `stalled_after_s`) is put back on its queue by
  whichever worker sees it first (`recover_stalled`), and another worker takes it over; the
  window it was in is done again and finds what was archived already; a job waiting on the
  queue of a dead server moves to a live server of its policy (`requeue_orphans`).

procrastinate's tables live in their own PostgreSQL schema (`procrastinate`), beside the
archive's, created by the first worker that starts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import zlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import psycopg
import structlog
from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, ProcrastinateException
from procrastinate.jobs import Job, Status
from procrastinate.schema import SchemaManager
from procrastinate.tasks import Task
from sqlalchemy import make_url

from callarchive.alerts import Alert, Alerter, AlertKind, ArchiveAlertSink
from callarchive.archive import Archive
from callarchive.clock import Clock, sleep_unless
from callarchive.configuration import Policy, Server
from callarchive.errors import CallarchiveError, ConfigurationError
from callarchive.scheduling.due import DueRun
from callarchive.scheduling.node import STALE_AFTER, is_alive

log = structlog.get_logger("callarchive.scheduling")

SCHEMA = "procrastinate"
QUEUE = "imports"
TASK = "callarchive.import_pair"
_SCHEMA_LOCK = 0x63616C6C  # advisory lock key: one node creates the schema at a time

PairJob = Callable[[int, int], Awaitable[object]]
ImportTask = Task[[int, int, str], Coroutine[Any, Any, None], [int, int, str]]


def server_queue(server: str) -> str:
    """The queue of one server (policies pinned to it)."""
    return f"server-{server}"


def pair_lock(policy_id: int, import_source_id: int) -> str:
    """The procrastinate lock of one policy and import source."""
    return f"pair-{policy_id}-{import_source_id}"


def libpq_url(database_url: str) -> str:
    """The libpq URL of a PostgreSQL `CALLARCHIVE_DATABASE_URL`; ConfigurationError otherwise."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(
            "workers share a PostgreSQL database; expected postgresql+psycopg://USER@HOST/DB",
            field="CALLARCHIVE_DATABASE_URL",
        )
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(database_url: str) -> App:
    """A procrastinate app on the archive's PostgreSQL, in the `procrastinate` schema."""
    connector = PsycopgConnector(
        conninfo=libpq_url(database_url),
        kwargs={"options": f"-c search_path={SCHEMA}"},
        min_size=1,
        max_size=8,
    )
    return App(connector=connector)


async def install_schema(database_url: str) -> bool:
    """Create procrastinate's schema unless it exists; True when it was created now."""
    async with await psycopg.AsyncConnection.connect(libpq_url(database_url)) as connection:
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        await connection.execute(f"SET LOCAL search_path TO {SCHEMA}")
        cursor = await connection.execute("SELECT to_regclass('procrastinate_jobs')")
        row = await cursor.fetchone()
        if row is not None and row[0] is not None:
            return False
        await connection.execute(SchemaManager.get_schema())
        return True


async def install_schema_when_available(
    database_url: str, clock: Clock, *, first_pause_s: float = 1.0, longest_pause_s: float = 30.0
) -> None:
    """`install_schema`, waiting for PostgreSQL while it cannot be reached (a worker started
    before its database, or while it restarts): each failed try is logged, and the pause
    between tries doubles up to `longest_pause_s`. SIGTERM ends the wait."""
    pause = first_pause_s
    while True:
        try:
            await install_schema(database_url)
        except psycopg.OperationalError as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            log.warning("database_unavailable", error=reason, retry_in_s=pause)
        else:
            return
        await clock.sleep(pause)
        pause = min(pause * 2, longest_pause_s)


def import_task(app: App, job: PairJob) -> ImportTask:
    """Register the import job on `app`: it runs `job(policy_id, import_source_id)`."""

    @app.task(name=TASK, queue=QUEUE)
    async def import_pair(policy_id: int, import_source_id: int, due_at: str) -> None:
        log.info(
            "queued_job_started",
            policy_id=policy_id,
            import_source_id=import_source_id,
            due_at=due_at,
        )
        await job(policy_id, import_source_id)

    return import_pair


def choose_server(
    servers: Sequence[str],
    known: Sequence[Server],
    pair: tuple[int, int],
    now: dt.datetime,
    *,
    stale_after: dt.timedelta = STALE_AFTER,
) -> str:
    """The server of `servers` to run a pinned pair: one that is alive, the same for a pair as
    long as the same ones are (spread by a hash); the first listed when none is."""
    alive = sorted(
        s.name for s in known if s.name in servers and is_alive(s, now, stale_after=stale_after)
    )
    if not alive:
        return servers[0]
    return alive[zlib.crc32(f"{pair[0]}-{pair[1]}".encode()) % len(alive)]


class QueueDispatcher:
    """Enqueues claimed runs as procrastinate jobs (a worker node's dispatcher)."""

    def __init__(
        self,
        task: ImportTask,
        archive: Archive,
        clock: Clock,
        *,
        stale_after: dt.timedelta = STALE_AFTER,
    ) -> None:
        self._task = task
        self._archive = archive
        self._clock = clock
        self.stale_after = stale_after

    def busy(self, run: DueRun) -> bool:
        del run
        return False  # the pair's queueing lock keeps a second job from waiting

    async def queue_for(self, servers: Sequence[str], pair: tuple[int, int]) -> str:
        """`imports`, or the queue of the chosen server of a pinned policy."""
        if not servers:
            return QUEUE
        known = await self._archive.servers.list()
        now = self._clock.now()
        return server_queue(choose_server(servers, known, pair, now, stale_after=self.stale_after))

    async def dead_servers(self) -> list[str]:
        """The servers whose heartbeat stopped."""
        now = self._clock.now()
        return [
            s.name
            for s in await self._archive.servers.list()
            if not is_alive(s, now, stale_after=self.stale_after)
        ]

    async def dispatch(self, run: DueRun) -> None:
        queue = await self.queue_for(run.servers, run.pair)
        await self.enqueue(run.pair, run.due_at.isoformat(), queue)

    async def enqueue(self, pair: tuple[int, int], due_at: str, queue: str) -> None:
        """Defer the job of `pair` due at `due_at` on `queue` (unless one waits already)."""
        lock = pair_lock(*pair)
        try:
            job_id = await self._task.configure(
                queue=queue, lock=lock, queueing_lock=lock
            ).defer_async(policy_id=pair[0], import_source_id=pair[1], due_at=due_at)
        except AlreadyEnqueued:
            log.info("run_already_queued", policy_id=pair[0], import_source_id=pair[1])
            return
        log.info("run_queued", policy_id=pair[0], import_source_id=pair[1], queue=queue, job=job_id)


async def recover_stalled(
    app: App, dispatcher: QueueDispatcher, archive: Archive, *, stalled_after_s: float
) -> int:
    """Put the jobs of dead workers back on a queue (a live server's for pinned policies);
    how many were."""
    recovered = 0
    jobs = await app.job_manager.get_stalled_jobs(
        task_name=TASK, seconds_since_heartbeat=stalled_after_s
    )
    for job in jobs:
        policy_id, source_id = _pair(job)
        policy: Policy | None = None
        try:
            policy = await archive.policies.get_by_id(policy_id)
            queue = await dispatcher.queue_for(policy.servers, (policy_id, source_id))
        except ConfigurationError:
            queue = job.queue
        try:
            await app.job_manager.retry_job(job, queue=queue)
        except ProcrastinateException as error:
            # Another worker was quicker, or a newer job of the pair already waits (its
            # queueing lock): that one does the work; this one is closed as failed if it is
            # still stalled (a quicker worker's retry may have been taken up and run already).
            await _abandon(app, job, str(error), stalled_after_s=stalled_after_s)
            continue
        log.warning("stalled_job_retried", job=job.id, queue=queue, worker=job.worker_id)
        await _alert_taken_over(
            archive, dispatcher, job, policy=policy, queue=queue, stalled_after_s=stalled_after_s
        )
        recovered += 1
    return recovered


async def _alert_taken_over(
    archive: Archive,
    dispatcher: QueueDispatcher,
    job: Job,
    *,
    policy: Policy | None,
    queue: str,
    stalled_after_s: float,
) -> None:
    """Raise "Import taken over from a stopped server" for a job put back on a queue: a killed,
    crashed or cut-off node is a fault an operator must hear of, even though nothing is lost."""
    policy_id, source_id = _pair(job)
    dead = await dispatcher.dead_servers()
    stopped = f" ({', '.join(dead)} stopped answering)" if dead else ""
    name = f"'{policy.name}'" if policy else f"#{policy_id}"
    message = (
        f"The import of policy {name} (import source #{source_id}) stopped on the server "
        f"running it: no heartbeat for {stalled_after_s:g} s{stopped}. It was put back on the "
        f"queue '{queue}' and another server takes it over; the window it was in is done "
        "again, and what was archived already is not archived twice. Check why that server "
        "stopped (killed, crashed, out of memory or cut off from PostgreSQL)."
    )
    alert = Alert(
        kind=AlertKind.IMPORT_TAKEN_OVER,
        message=message,
        details={"job": job.id, "worker": job.worker_id, "queue": queue, "stopped": dead},
        policy_id=policy_id if policy else None,
        import_source_id=source_id if policy else None,
    )
    try:
        await Alerter(ArchiveAlertSink(archive)).raise_(alert)
    except CallarchiveError as error:
        log.warning("alert_not_raised", kind=alert.kind.value, error=str(error))


async def requeue_orphans(app: App, dispatcher: QueueDispatcher, archive: Archive) -> int:
    """Move jobs waiting on the queue of a dead server to a live server of their policy;
    how many were."""
    moved = 0
    for server in await dispatcher.dead_servers():
        waiting = await app.job_manager.list_jobs_async(
            queue=server_queue(server), task=TASK, status=Status.TODO.value
        )
        for job in waiting:
            pair = _pair(job)
            try:
                policy = await archive.policies.get_by_id(pair[0])
            except ConfigurationError:
                continue
            queue = await dispatcher.queue_for(policy.servers, pair)
            if queue == job.queue or job.id is None:
                continue
            if await app.job_manager.cancel_job_by_id_async(job.id):
                await dispatcher.enqueue(pair, str(job.task_kwargs.get("due_at", "")), queue)
                log.warning("waiting_job_moved", job=job.id, dead_server=server, queue=queue)
                moved += 1
    return moved


def _pair(job: Job) -> tuple[int, int]:
    return int(str(job.task_kwargs["policy_id"])), int(str(job.task_kwargs["import_source_id"]))


async def _abandon(app: App, job: Job, reason: str, *, stalled_after_s: float) -> None:
    if job.id is None:
        return
    try:
        stalled = await app.job_manager.get_stalled_jobs(
            task_name=TASK, seconds_since_heartbeat=stalled_after_s
        )
        if job.id in {j.id for j in stalled}:
            await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
            log.warning("stalled_job_closed", job=job.id, reason=reason)
    except ProcrastinateException as error:
        log.info("stalled_job_left", job=job.id, reason=f"{reason}; {error}")


async def keep_recovering(
    app: App,
    dispatcher: QueueDispatcher,
    archive: Archive,
    clock: Clock,
    *,
    stalled_after_s: float,
    every_s: float,
    stop: asyncio.Event,
) -> None:
    """`recover_stalled` every `every_s` seconds until `stop`."""
    while not stop.is_set():
        try:
            await recover_stalled(app, dispatcher, archive, stalled_after_s=stalled_after_s)
            await requeue_orphans(app, dispatcher, archive)
        except (CallarchiveError, ProcrastinateException) as error:
            log.warning("stalled_job_check_failed", error=str(error))
        await sleep_unless(clock, every_s, stop)


__all__ = [
    "QUEUE",
    "SCHEMA",
    "TASK",
    "ImportTask",
    "PairJob",
    "QueueDispatcher",
    "choose_server",
    "import_task",
    "install_schema",
    "install_schema_when_available",
    "keep_recovering",
    "libpq_url",
    "pair_lock",
    "queue_app",
    "recover_stalled",
    "requeue_orphans",
    "server_queue",
]
