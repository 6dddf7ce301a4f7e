"""`callarchive worker --server NAME`: a node of a multi-server installation.

The node registers as server NAME and sends heartbeats, runs the scheduler (due runs claimed
once across nodes and enqueued), runs import jobs from the queue `imports` and from its own
queue `server-NAME` (policies pinned to it) through procrastinate, puts the jobs of dead
workers back on their queue, delivers alerts, and serves `/metrics`, `/health` and `/ready`.
SIGTERM or SIGINT: no new job starts; running jobs finish their current window; then it exits.

procrastinate's worker stops by itself when its queue heartbeat or its listener loses PostgreSQL
(a restart of the database); the node starts it again after a pause (`keep_taking_jobs`), so
that it does not go on looking alive while it takes no job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Protocol

import click
import structlog
from procrastinate.exceptions import ProcrastinateException
from procrastinate.worker import Worker

from callarchive.cli.app import run, wiring
from callarchive.cli.running import (
    Node,
    exit_on_sigterm,
    listening_socket,
    observed_logs,
    serve_node,
    stop_on_signals,
)
from callarchive.clock import Clock, sleep_unless
from callarchive.configuration import Server
from callarchive.monitoring import Metrics
from callarchive.scheduling.queue import (
    QUEUE,
    QueueDispatcher,
    import_task,
    install_schema_when_available,
    keep_recovering,
    libpq_url,
    queue_app,
    server_queue,
)

log = structlog.get_logger("callarchive.scheduling")

# Seconds before procrastinate's worker is started again after it stopped by itself.
RESTART_PAUSE_S = 1.0


class QueueWorker(Protocol):
    """What `keep_taking_jobs` needs of procrastinate's `Worker`."""

    async def run(self) -> None: ...


async def keep_taking_jobs(
    jobs: QueueWorker, clock: Clock, stop: asyncio.Event, *, pause_s: float = RESTART_PAUSE_S
) -> None:
    """Run procrastinate's worker until `stop`; whenever it stops by itself, or cannot start
    (the database is away), start it again after `pause_s`."""
    while not stop.is_set():
        try:
            await jobs.run()
        except ProcrastinateException as error:
            reason = f"{type(error).__name__}: {error.__cause__ or error}"
        else:
            reason = "it lost PostgreSQL (its heartbeat or listener failed)"
        if stop.is_set():
            return
        log.warning("queue_worker_restarting", reason=reason, pause_s=pause_s)
        await sleep_unless(clock, pause_s, stop)


@click.command("worker")
@click.option("--server", "server_name", required=True, help="this node's server name")
@click.option("--concurrency", default=4, show_default=True, help="jobs at a time")
@click.option("--host", default="127.0.0.1", show_default=True, help="address of /metrics")
@click.option("--port", default=8081, show_default=True, help="port of /metrics (0: any)")
@click.option(
    "--heartbeat-s", default=10.0, show_default=True, help="seconds between queue heartbeats"
)
@click.option(
    "--stalled-after-s",
    default=30.0,
    show_default=True,
    help="a worker silent this long is dead: its jobs are taken over",
)
@click.pass_context
def worker(
    ctx: click.Context,
    /,
    *,
    server_name: str,
    concurrency: int,
    host: str,
    port: int,
    heartbeat_s: float,
    stalled_after_s: float,
) -> None:
    """Run import jobs from the shared queue (PostgreSQL) as server NAME."""
    base = wiring(ctx)
    Server(name=server_name)  # validates the name
    settings = base.settings.model_copy(update={"server_name": server_name})
    wired = dataclasses.replace(base, settings=settings)
    url = settings.resolved_database_url
    libpq_url(url)  # refuses anything but PostgreSQL
    metrics = Metrics()
    observed_logs(ctx, metrics)
    exit_on_sigterm()
    sock = listening_socket(host, port)
    click.echo(f"LISTENING http://{host}:{sock.getsockname()[1]} server {server_name}")

    async def main() -> None:
        await install_schema_when_available(url, wired.clock)
        app = queue_app(url)
        async with wired.archive() as archive, app.open_async():
            nodes: list[Node] = []

            async def job(policy_id: int, import_source_id: int) -> object:
                return await nodes[0].run_job(policy_id, import_source_id)

            task = import_task(app, job)
            dispatcher = QueueDispatcher(
                task, archive, wired.clock, stale_after=dt.timedelta(seconds=stalled_after_s)
            )
            node = Node(
                wired, archive, metrics=metrics, dispatcher=dispatcher, heartbeat_s=heartbeat_s
            )
            nodes.append(node)
            jobs = Worker(
                app,
                queues=[QUEUE, server_queue(server_name)],
                name=server_name,
                concurrency=concurrency,
                install_signal_handlers=False,
                update_heartbeat_interval=heartbeat_s,
                stalled_worker_timeout=stalled_after_s,
            )
            stop = asyncio.Event()
            stop_on_signals(stop)

            async def stop_jobs() -> None:
                await stop.wait()
                node.stopping.set()
                jobs.stop()  # type: ignore[no-untyped-call]  # procrastinate leaves it unannotated

            await asyncio.gather(
                serve_node(node, sock, stop),
                keep_taking_jobs(jobs, wired.clock, stop),
                stop_jobs(),
                keep_recovering(
                    app,
                    dispatcher,
                    archive,
                    wired.clock,
                    stalled_after_s=stalled_after_s,
                    every_s=heartbeat_s,
                    stop=stop,
                ),
            )

    try:
        run(main())
    finally:
        sock.close()


__all__ = ["QueueWorker", "keep_taking_jobs", "worker"]
