"""`callarchive serve` and `callarchive server list`: a running node and the nodes known.

A `Node` is one running callarchive process: it registers as a server and sends heartbeats, runs
the scheduler (due runs claimed once across nodes), runs the claimed jobs (each import window
through `run_pair`, under the pair's lock), delivers alerts, and serves `/metrics`, `/health`
and `/ready`. `serve` runs one with jobs in the same process (the embedded default); `worker`
(see `cli.workers`) runs one whose jobs go through the procrastinate queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import ipaddress
import signal
import socket
from collections.abc import AsyncIterator, Iterator

import click
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from callarchive import logs
from callarchive.alerts import (
    AlertDelivery,
    Channel,
    EmailChannel,
    Severity,
    SyslogChannel,
    WebhookChannel,
)
from callarchive.archive import Archive, current_revision, head_revision, pair_folders
from callarchive.cli.app import Wiring, run, wiring
from callarchive.cli.imports import pair_client, run_pair
from callarchive.cli.reconcile import reconcile_day
from callarchive.cli.sources import echo_table
from callarchive.clock import Clock
from callarchive.configuration import ImportSource, Policy, Server
from callarchive.errors import CallarchiveError, ConfigurationError
from callarchive.imports import RetryBuffer, RunResult, WindowPlan, lag
from callarchive.monitoring import Metrics, routes
from callarchive.retention import daily_retention
from callarchive.scheduling import (
    HEARTBEAT_S,
    TICK_S,
    DailyReconciliation,
    Dispatcher,
    DueRun,
    LocalDispatcher,
    Scheduler,
    WindowRunner,
    execute_pair,
    is_alive,
    keep_alive,
)
from callarchive.settings import Settings

log = structlog.get_logger("callarchive.node")


def alert_channels(settings: Settings, clock: Clock) -> list[Channel]:
    """The delivery channels the `CALLARCHIVE_ALERT_*` settings configure."""
    channels: list[Channel] = []
    if settings.alert_smtp_host:
        password = settings.alert_smtp_password
        channels.append(
            EmailChannel(
                host=settings.alert_smtp_host,
                port=settings.alert_smtp_port,
                sender=settings.alert_email_from,
                recipients=[
                    a.strip() for a in (settings.alert_email_to or "").split(",") if a.strip()
                ],
                starttls=settings.alert_smtp_starttls,
                username=settings.alert_smtp_username,
                password=password.get_secret_value() if password else None,
                ca_file=str(settings.alert_smtp_ca_file) if settings.alert_smtp_ca_file else None,
            )
        )
    if settings.alert_syslog_url:
        channels.append(SyslogChannel(settings.alert_syslog_url))
    if settings.alert_webhook_url:
        channels.append(
            WebhookChannel(
                settings.alert_webhook_url, clock=clock, retries=settings.alert_webhook_retries
            )
        )
    return channels


def minimum_severity(settings: Settings) -> Severity:
    """`CALLARCHIVE_ALERT_MIN_SEVERITY` as a severity."""
    for severity in Severity:
        if severity.value.lower() == settings.alert_min_severity.strip().lower():
            return severity
    raise ConfigurationError(
        f"{settings.alert_min_severity!r} is not a severity; expected one of "
        f"{', '.join(s.value for s in Severity)}",
        field="CALLARCHIVE_ALERT_MIN_SEVERITY",
    )


class Node:
    """One running node: scheduler, jobs, alert delivery, heartbeats and monitoring."""

    def __init__(
        self,
        wired: Wiring,
        archive: Archive,
        *,
        metrics: Metrics,
        dispatcher: Dispatcher | None = None,
        tick_s: float = TICK_S,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self.wired = wired
        self.archive = archive
        self.metrics = metrics
        self.server = wired.settings.resolved_server_name
        self.stopping = asyncio.Event()
        self.local = LocalDispatcher(self.job)
        self.scheduler = Scheduler(
            archive=archive,
            clock=wired.clock,
            server=self.server,
            dispatcher=dispatcher or self.local,
            tick_s=tick_s,
        )
        self.reconciliation = DailyReconciliation(
            archive=archive,
            clock=wired.clock,
            work=wired.work_store(),
            server=self.server,
            reconcile=functools.partial(reconcile_day, wired, archive),
        )
        settings = wired.settings
        self.delivery = AlertDelivery(
            archive=archive,
            channels=alert_channels(settings, wired.clock),
            clock=wired.clock,
            min_severity=minimum_severity(settings),
            group_period=dt.timedelta(minutes=settings.alert_group_minutes),
            on_sent=lambda channel, outcome: metrics.alerts.labels(channel, outcome).inc(),
        )
        self._heartbeat_s = heartbeat_s
        self._loops: list[asyncio.Task[None]] = []
        self._manual: set[asyncio.Task[list[RunResult]]] = set()

    # -- jobs ------------------------------------------------------------------------------

    async def job(self, run: DueRun) -> list[RunResult]:
        """The job of a claimed run: its pair's windows until caught up, stopped, or disabled."""
        return await self.run_job(run.policy_id, run.import_source_id)

    async def run_job(self, policy_id: int, import_source_id: int) -> list[RunResult]:
        """Windows of one pair on this node, stopping after a window when the node stops."""
        return await execute_pair(
            self.archive,
            policy_id,
            import_source_id,
            server=self.server,
            open_pair=self.open_pair,
            stopping=self.stopping,
            clock=self.wired.clock,
        )

    @contextlib.asynccontextmanager
    async def open_pair(self, policy: Policy, source: ImportSource) -> AsyncIterator[WindowRunner]:
        """The window runner of one pair: `run_pair` with its client, observed by the metrics."""
        clock = self.wired.clock
        plan = WindowPlan()
        async with pair_client(self.wired, policy, source) as client:

            async def window() -> RunResult:
                started = clock.monotonic()
                result = await run_pair(self.wired, self.archive, client, policy, source, plan=plan)
                await self._observe(policy, source, result, clock.monotonic() - started)
                return result

            yield window

    async def _observe(
        self, policy: Policy, source: ImportSource, result: RunResult, duration_s: float
    ) -> None:
        folders = pair_folders(policy.id or 0, source.id or 0)
        size = await RetryBuffer(self.wired.work_store(), folders).size()
        behind = None
        if result.cursor is not None:
            behind = lag(result.cursor.position, self.wired.clock.now()).total_seconds()
        self.metrics.observe_run(
            policy.name,
            source.name,
            result,
            duration_s=duration_s,
            retry_buffer_size=size,
            lag_s=behind,
        )

    # -- monitoring ------------------------------------------------------------------------

    def app(self, *, tls: bool = False) -> Starlette:
        """The node's web app: `/metrics`, `/health`, `/ready`, and the web UI and REST API."""
        # Imported here: the web stack adds ~70 MB to every process that loads it, and import
        # runs and the other commands do not need it.
        from callarchive.web import WebState, create_app  # noqa: PLC0415

        web = create_app(
            WebState(
                archive=self.archive,
                media=self.wired.media_store(),
                work=self.wired.work_store(),
                clock=self.wired.clock,
                secure_cookies=tls,
                tls=tls,
                run_now=self.run_now,
                server=self.server,
                probe=self.wired.probe,
            )
        )
        monitoring = routes(self.metrics, health=self.health, ready=self.ready)
        return Starlette(routes=[*monitoring, Mount("/", app=web)])

    async def run_now(self, policy_id: int, import_source_id: int) -> None:
        """Start the windows of one pair now, in the background ("Run now" in the web UI)."""
        task = asyncio.create_task(
            self.run_job(policy_id, import_source_id),
            name=f"run now {policy_id}/{import_source_id}",
        )
        self._manual.add(task)
        task.add_done_callback(self._manual.discard)

    async def health(self) -> list[str]:
        """Problems of the process: a loop that ended by itself."""
        return [
            f"{task.get_name()} stopped: {task.exception()!r}"
            for task in self._loops
            if task.done() and not task.cancelled() and task.exception() is not None
        ]

    async def ready(self) -> list[str]:
        """Problems that keep the node from working: the database, its schema."""
        try:
            current = await current_revision(self.archive.engine)
        except CallarchiveError as error:
            return [f"database: {error}"]
        if current != head_revision():
            needed = head_revision()
            return [f"database: at revision {current}, needed {needed}; run `db upgrade`"]
        return []

    # -- running ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Heartbeats, scheduler and alert delivery until `stop`; then the running jobs finish
        their current window, and the last alerts go out."""
        clock = self.wired.clock
        host = socket.gethostname()
        # Object lock on a bucket without it: say so now, not at the first import.
        await self.wired.media_store().check_lock()
        self._loops = [
            asyncio.create_task(
                keep_alive(
                    self.archive,
                    clock,
                    server=self.server,
                    host=host,
                    stop=stop,
                    every_s=self._heartbeat_s,
                ),
                name="heartbeat",
            ),
            asyncio.create_task(self.scheduler.run(stop), name="scheduler"),
            asyncio.create_task(self.delivery.run(stop), name="alert delivery"),
            asyncio.create_task(
                daily_retention(
                    self.archive, self.wired.media_store(), clock, server=self.server, stop=stop
                ),
                name="retention",
            ),
            asyncio.create_task(self.reconciliation.run(stop), name="reconciliation"),
        ]
        log.info("node_started", server=self.server, host=host)
        await stop.wait()
        self.stopping.set()
        await self.local.wait()
        await asyncio.gather(*self._loops, return_exceptions=True)
        log.info("node_stopped", server=self.server)


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: the node decides how to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


async def serve_node(
    node: Node, sock: socket.socket, stop: asyncio.Event, *, tls: Settings | None = None
) -> None:
    """Serve the node's web app on `sock` (over HTTPS with the certificate of `tls`'s
    settings, when given) and run the node until `stop`."""
    certificate = tls.tls_certificate if tls is not None else None
    key = (tls.tls_key or certificate) if tls is not None else None
    password = tls.tls_key_password if tls is not None else None
    config = uvicorn.Config(
        node.app(tls=certificate is not None),
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(certificate) if certificate else None,
        ssl_keyfile=str(key) if key else None,
        ssl_keyfile_password=password.get_secret_value() if password else None,
    )
    server = _Uvicorn(config)

    async def stop_server() -> None:
        await stop.wait()
        server.should_exit = True

    await asyncio.gather(server.serve(sockets=[sock]), node.run(stop), stop_server())


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def exit_on_sigterm() -> None:
    """Until `stop_on_signals` takes over, SIGTERM ends the command at once with exit code 0:
    nothing has started yet that a stop would have to let finish. Called before a long-running
    command prints its LISTENING line, so that a service manager stopping it at any moment after
    that sees a clean exit."""

    def exit_now(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, exit_now)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT set `stop` (running windows finish; nothing new starts)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


def observed_logs(ctx: click.Context, metrics: Metrics) -> None:
    """Logs of a long-running command: JSON unless --log-text, every event seen by metrics."""
    root = ctx.find_root()
    level = root.params.get("log_level", "warning")
    json = root.params.get("log_json", False)
    if root.get_parameter_source("log_json") is click.core.ParameterSource.DEFAULT:
        json = True
    logs.configure(level=_LEVELS[level], json=bool(json), observer=metrics.observe_log)


_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8080, show_default=True, help="port to listen on (0: any)")
@click.option(
    "--allow-http",
    is_flag=True,
    help="serve plain HTTP on a non-loopback address (behind a TLS-terminating proxy only)",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, allow_http: bool) -> None:
    """Run this node: the web UI and REST API, the scheduler, the import runs, alert delivery,
    /metrics, /health and /ready.

    The web UI is served over HTTPS when CALLARCHIVE_TLS_CERTIFICATE is set, else plain HTTP,
    which is allowed only on a loopback address unless --allow-http is given. Stops on SIGTERM
    or SIGINT after the running windows have finished.
    """
    wired = wiring(ctx)
    settings = wired.settings
    https = settings.tls_certificate is not None
    if not https and not _loopback(host) and not allow_http:
        raise ConfigurationError(
            f"serving plain HTTP on {host} would send passwords and recordings unencrypted; "
            "set CALLARCHIVE_TLS_CERTIFICATE (and CALLARCHIVE_TLS_KEY), or put a TLS proxy in "
            "front and pass --allow-http",
            field="CALLARCHIVE_TLS_CERTIFICATE",
        )
    metrics = Metrics()
    observed_logs(ctx, metrics)
    exit_on_sigterm()
    sock = listening_socket(host, port)
    bound = sock.getsockname()
    scheme = "https" if https else "http"
    click.echo(f"LISTENING {scheme}://{host}:{bound[1]} server {settings.resolved_server_name}")

    async def main() -> None:
        async with wired.archive() as archive:
            stop = asyncio.Event()
            stop_on_signals(stop)
            await serve_node(Node(wired, archive, metrics=metrics), sock, stop, tls=settings)

    try:
        run(main())
    finally:
        sock.close()


@click.group("server")
def server() -> None:
    """The callarchive nodes (servers) and their heartbeats."""


@server.command("list")
@click.pass_context
def server_list(ctx: click.Context) -> None:
    """Every server: its host, last heartbeat and whether it responds."""
    wired = wiring(ctx)

    async def load() -> list[Server]:
        async with wired.archive() as archive:
            return await archive.servers.list()

    now = wired.clock.now()
    rows = [
        (
            s.name,
            s.host or "-",
            f"{s.last_heartbeat:%Y-%m-%d %H:%M:%S} UTC" if s.last_heartbeat else "never",
            "yes" if is_alive(s, now) else "no",
        )
        for s in run(load())
    ]
    echo_table(("NAME", "HOST", "LAST HEARTBEAT", "RESPONDING"), rows)


__all__ = [
    "Node",
    "alert_channels",
    "exit_on_sigterm",
    "listening_socket",
    "minimum_severity",
    "observed_logs",
    "serve",
    "serve_node",
    "server",
    "stop_on_signals",
]
