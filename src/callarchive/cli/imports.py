"""`callarchive import run`, `cursor show|set` and `retry-buffer list|add|remove`."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

import anyio.to_thread
import click
import structlog
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from callarchive.alerts import Alert, Alerter, AlertKind, ArchiveAlertSink
from callarchive.archive import Archive, BatchReportEntry, WorkStore, pair_folders
from callarchive.cli.app import Wiring, run, wiring
from callarchive.clock import Clock
from callarchive.configuration import ImportSource, Policy
from callarchive.errors import ConfigurationError
from callarchive.genesys import EncryptedTokenVault, GenesysClient
from callarchive.imports import Cursor, CursorError, WindowPlan, connect_source, lag
from callarchive.imports.cursor import parse as parse_cursor
from callarchive.imports.cursor import parse_time
from callarchive.imports.lock import run_lock
from callarchive.imports.media import sweep_scratch
from callarchive.imports.progress import CursorState, read_cursor
from callarchive.imports.report import notification_text
from callarchive.imports.retry_buffer import Cdr, Entry, RetryBuffer, RetryReason
from callarchive.imports.run import ImportRun, RunResult, RunStatus

log = structlog.get_logger("callarchive.imports")

MAX_RUNS = 100_000


async def _pairs(
    archive: Archive, policy_name: str, source_name: str | None
) -> list[tuple[Policy, ImportSource]]:
    policy = await archive.policies.get(policy_name)
    names = policy.import_sources
    if source_name is not None:
        if source_name not in names:
            raise ConfigurationError(
                f"policy {policy_name!r} does not import from {source_name!r}; its import sources: "
                f"{', '.join(names)}",
                field="source",
            )
        names = (source_name,)
    return [(policy, await archive.import_sources.get(name)) for name in names]


async def _runnable_pairs(
    archive: Archive, policy_name: str, source_name: str | None
) -> list[tuple[Policy, ImportSource]]:
    """`_pairs`, raising "Could not obtain timezone offsets" when a stored Recording Timezone
    is unknown here (a tzdata update drops zone names): the run cannot present its times."""
    try:
        return await _pairs(archive, policy_name, source_name)
    except ConfigurationError as error:
        if error.field == "recording_timezone":
            policy = await archive.policies.get(policy_name)
            await Alerter(ArchiveAlertSink(archive)).raise_(
                Alert(
                    kind=AlertKind.TIMEZONE_UNAVAILABLE,
                    message=f"{error}; policy {policy_name!r} did not run",
                    policy_id=policy.id,
                )
            )
        raise


@contextlib.asynccontextmanager
async def pair_client(
    wired: Wiring, policy: Policy, source: ImportSource
) -> AsyncIterator[GenesysClient]:
    """The Genesys client of one pair: its token cached (encrypted) in the pair's work folder."""
    folders = pair_folders(policy.id or 0, source.id or 0)
    vault = EncryptedTokenVault(wired.work_store(), f"{folders.work}/token", wired.box().fernet)
    certificates = str(wired.settings.home / "certificates")
    async with connect_source(
        source,
        clock=wired.clock,
        vault=vault,
        certificate_folder=certificates,
        server_certificate=wired.server_certificate(),
        timeout_s=wired.settings.genesys_timeout_s,
    ) as client:
        yield client


async def run_pair(
    wired: Wiring,
    archive: Archive,
    client: GenesysClient,
    policy: Policy,
    source: ImportSource,
    *,
    progress: ProgressCallback | None = None,
    plan: WindowPlan | None = None,
) -> RunResult:
    """One run of one policy and import source, under its run lock on this node and its pair
    lock across nodes (PostgreSQL); `plan` carries where the next windows end from one run of
    a job to the next."""
    folders = pair_folders(policy.id or 0, source.id or 0)
    home = wired.settings.home
    scratch = home / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    # In a worker thread: a large folder left behind must not hold up the other pairs' runs.
    if swept := await anyio.to_thread.run_sync(lambda: sweep_scratch(scratch, now=time.time())):
        log.info("scratch_swept", folder=str(scratch), removed=swept)
    run = ImportRun(
        archive=archive,
        client=client,
        objects=wired.media_store(),
        work=wired.work_store(),
        clock=wired.clock,
        alerter=Alerter(ArchiveAlertSink(archive)),
        policy=policy,
        source=source,
        location=socket.gethostname(),
        scratch=scratch,
        progress=progress,
        max_conversations=wired.settings.window_max_conversations,
        plan=plan,
    )
    with run_lock(home / "locks", folders.name):
        async with archive.pair_lock(policy.id or 0, source.id or 0):
            return await run.execute()


class ProgressCallback:
    """Counts conversations as a run reports them, for the progress display."""

    def __init__(self, advance: Callable[[], None] | None = None) -> None:
        self.done = 0
        self._advance = advance

    def __call__(self, entry: BatchReportEntry) -> None:
        del entry
        self.done += 1
        if self._advance is not None:
            self._advance()


@click.group("import")
def import_() -> None:
    """Run imports from Genesys Cloud."""


@import_.command("run")
@click.option("--policy", "policy_name", required=True, help="the Data Management Policy")
@click.option("--source", "source_name", help="only this import source of the policy")
@click.option(
    "--until-caught-up", is_flag=True, help="run window after window until nothing is due"
)
@click.pass_context
def run_command(
    ctx: click.Context, policy_name: str, source_name: str | None, until_caught_up: bool
) -> None:
    """Import the next window (or every window up to now) of a policy's import sources."""
    wired = wiring(ctx)
    console = Console(stderr=True)
    results = run(
        _run_all(wired, policy_name, source_name, until_caught_up=until_caught_up, console=console)
    )
    if any(result.status is RunStatus.STOPPED for result in results):
        ctx.exit(1)


async def _run_all(
    wired: Wiring,
    policy_name: str,
    source_name: str | None,
    *,
    until_caught_up: bool,
    console: Console,
) -> list[RunResult]:
    """Run the pairs' windows, printing each run's summary as it ends; the results, settled
    (a catch-up of years holds no line per conversation of the windows it has done)."""
    results: list[RunResult] = []
    async with wired.archive() as archive:
        for policy, source in await _runnable_pairs(archive, policy_name, source_name):
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn(
                    "{task.fields[done]} conversations, lag {task.fields[lag]}, "
                    "caught up in {task.fields[eta]}"
                ),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,
            ) as bar:
                task = bar.add_task(
                    f"{policy.name} / {source.name}", total=None, done=0, lag="?", eta="?"
                )
                pace = _Pace(wired.clock)
                counter = ProgressCallback(lambda: bar.update(task, done=counter.done))  # noqa: B023
                plan = WindowPlan()
                async with pair_client(wired, policy, source) as client:
                    for _ in range(MAX_RUNS if until_caught_up else 1):
                        result = await run_pair(
                            wired, archive, client, policy, source, progress=counter, plan=plan
                        )
                        click.echo(_summary(result))
                        results.append(result.settled())
                        bar.update(task, lag=_lag(result, wired), eta=pace.eta(result))
                        if result.caught_up:
                            break
    return results


def _lag(result: RunResult, wired: Wiring) -> str:
    if result.cursor is None:
        return "?"
    return _hours_minutes(lag(result.cursor.position, wired.clock.now()))


def _hours_minutes(span: dt.timedelta) -> str:
    """`3d04h`, `5h07m`, `4m09s` or `12s`."""
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


class _Pace:
    """How fast the cursor moves through history, and when it will reach the present."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._started = clock.monotonic()
        self._first: dt.datetime | None = None

    def eta(self, result: RunResult) -> str:
        if result.cursor is None:
            return "?"
        position = result.cursor.position
        self._first = self._first or (result.window.start if result.window else position)
        covered = (position - self._first).total_seconds()
        elapsed = self._clock.monotonic() - self._started
        if covered <= 0 or elapsed <= 0:
            return "?"
        behind = lag(position, self._clock.now()).total_seconds()
        return _hours_minutes(dt.timedelta(seconds=behind * elapsed / covered))


def _summary(result: RunResult) -> str:
    report = result.report
    start, end = report.window_start, report.window_end
    if (start is None or end is None) and result.window is not None and not result.window.empty:
        start, end = result.window.start, result.window.end  # a stopped run's window
    window = (
        f"{start:%Y-%m-%d %H:%M}..{end:%Y-%m-%d %H:%M} UTC" if start and end else "no window due"
    )
    counts = (
        f"imported {report.imported}, already imported {report.already_imported}, skipped by "
        f"rules {report.skipped_by_rules}, retry buffer {report.retry_buffered}, "
        f"failed {report.failed}"
    )
    head = f"{result.status.value}: {window}: {counts}"
    if result.message:
        head += f"\n  {result.message}"
    return head + "\n" + _indent(notification_text(report))


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


# -- cursor ----------------------------------------------------------------------------------


@click.group()
def cursor() -> None:
    """Show or set the cursor of a policy and import source (the seed's maintenance procedure)."""


F = TypeVar("F", bound=Callable[..., Any])


def _pair_options(command: F) -> F:
    """The --policy and --source options naming one pair."""
    with_source = click.option("--source", "source_name", required=True, help="import source")
    with_policy = click.option("--policy", "policy_name", required=True, help="the policy")
    return with_policy(with_source(command))


async def _pair(wired: Wiring, policy_name: str, source_name: str) -> tuple[Policy, ImportSource]:
    async with wired.archive() as archive:
        [pair] = await _pairs(archive, policy_name, source_name)
    return pair


async def _write_cursor(work: WorkStore, key: str, position: dt.datetime) -> None:
    """Put the cursor at `position`, keeping the last imported conversation it names."""
    old = await work.get(key)
    previous = ""
    if old is not None:
        try:
            previous = parse_cursor(old).conversation_id
        except CursorError:
            previous = ""
    await work.put(key, Cursor(position=position, conversation_id=previous).render().encode())


@cursor.command("show")
@_pair_options
@click.pass_context
def cursor_show(ctx: click.Context, policy_name: str, source_name: str) -> None:
    """Print the cursor file's line and where it lives."""
    wired = wiring(ctx)

    async def show() -> CursorState:
        policy, source = await _pair(wired, policy_name, source_name)
        folders = pair_folders(policy.id or 0, source.id or 0)
        return await read_cursor(
            wired.work_store(),
            folders,
            recording_start=source.recording_start,
            now=wired.clock.now(),
        )

    state = run(show())
    click.echo(f"file: {state.key}")
    if state.line is None:
        start = state.position
        click.echo(f"no cursor yet: the first run starts at {start:%Y.%m.%d %H:%M:%S} UTC")
        return
    click.echo(state.line)
    if state.error is not None:
        click.echo(f"warning: {state.error}", err=True)
        ctx.exit(1)
    behind = lag(state.position, wired.clock.now())
    click.echo(f"position: {state.position:%Y-%m-%d %H:%M:%S} UTC, lag {behind}")


@cursor.command("set")
@_pair_options
@click.argument("timestamp")
@click.pass_context
def cursor_set(ctx: click.Context, policy_name: str, source_name: str, timestamp: str) -> None:
    """Set the cursor to TIMESTAMP ("YYYY.MM.DD HH:MM:SS.mmm" UTC, or ISO 8601).

    Disable the policy first (the seed's procedure): conversations imported again are reported
    "already imported", never duplicated.
    """
    wired = wiring(ctx)

    async def set_() -> str:
        async with wired.archive() as archive:
            [(policy, source)] = await _pairs(archive, policy_name, source_name)
            folders = pair_folders(policy.id or 0, source.id or 0)
            position = parse_time(timestamp)
            if position > wired.clock.now():
                raise ConfigurationError(
                    "lies in the future; expected a time before the failure", field="timestamp"
                )
            with run_lock(wired.settings.home / "locks", folders.name):
                async with archive.pair_lock(policy.id or 0, source.id or 0):
                    await _write_cursor(wired.work_store(), folders.cursor, position)
        if policy.enabled:
            click.echo(
                f"warning: policy {policy.name!r} is enabled; disable it while you edit the cursor",
                err=True,
            )
        return folders.cursor

    key = run(set_())
    click.echo(f"cursor {key} set to {parse_time(timestamp):%Y.%m.%d %H:%M:%S} UTC")


# -- retry buffer ----------------------------------------------------------------------------


@click.group("retry-buffer")
def retry_buffer() -> None:
    """List, add or remove CDRs in the retry buffer of a policy and import source."""


async def _buffer(
    wired: Wiring, policy_name: str, source_name: str
) -> tuple[RetryBuffer, Policy, ImportSource]:
    policy, source = await _pair(wired, policy_name, source_name)
    folders = pair_folders(policy.id or 0, source.id or 0)
    return RetryBuffer(wired.work_store(), folders), policy, source


@retry_buffer.command("list")
@_pair_options
@click.pass_context
def buffer_list(ctx: click.Context, policy_name: str, source_name: str) -> None:
    """Every CDR waiting in the retry buffer."""
    wired = wiring(ctx)

    async def entries() -> Sequence[Entry]:
        buffer, _, _ = await _buffer(wired, policy_name, source_name)
        return await buffer.list()

    found = run(entries())
    if not found:
        click.echo("(the retry buffer is empty)")
    for entry in found:
        cdr = entry.cdr
        if cdr is None:
            click.echo(f"{entry.key}  unreadable: {entry.error}")
            continue
        click.echo(
            f"{cdr.conversation_id}  start {cdr.conversation_start:%Y-%m-%d %H:%M:%S} UTC  "
            f"{cdr.reason.value}  attempts {cdr.attempts}  {cdr.message}"
        )


@retry_buffer.command("add")
@_pair_options
@click.argument("conversation_id")
@click.option(
    "--start", "start_text", required=True, help="the conversation's start (UTC, ISO 8601)"
)
@click.pass_context
def buffer_add(
    ctx: click.Context, policy_name: str, source_name: str, conversation_id: str, start_text: str
) -> None:
    """Put a conversation into the retry buffer; the next run imports it."""
    wired = wiring(ctx)

    async def add() -> str:
        buffer, policy, source = await _buffer(wired, policy_name, source_name)
        cdr = Cdr(
            conversation_id=conversation_id,
            conversation_start=parse_time(start_text),
            policy_id=policy.id or 0,
            import_source_id=source.id or 0,
            reason=RetryReason.MANUAL,
            message="added by an operator",
        )
        return await buffer.add(cdr)

    click.echo(f"added {run(add())}")


@retry_buffer.command("remove")
@_pair_options
@click.argument("conversation_id")
@click.pass_context
def buffer_remove(
    ctx: click.Context, policy_name: str, source_name: str, conversation_id: str
) -> None:
    """Remove a conversation's CDR from the retry buffer."""
    wired = wiring(ctx)

    async def remove() -> int:
        buffer, _, _ = await _buffer(wired, policy_name, source_name)
        return await buffer.remove(conversation_id)

    removed = run(remove())
    if not removed:
        click.echo(f"{conversation_id} is not in the retry buffer", err=True)
        ctx.exit(1)
    click.echo(f"removed {removed} file(s) of {conversation_id}")


__all__ = ["cursor", "import_", "retry_buffer", "run_pair"]
