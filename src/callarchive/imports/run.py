"""One import run of a policy and an import source (DESIGN.md section 2).

Read the cursor, compute the window, take up to 25 CDRs from the retry buffer, discover the
window's recorded voice conversations, apply the recording rules, fetch and store the media,
archive the metadata, delete the cloud copy when asked, and only then advance the cursor. Every
conversation ends imported, already imported, skipped by rules, or in the retry buffer; a run
that cannot finish its window leaves the cursor where it was, so the next run does the window
again and finds what is archived already.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import enum
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from callarchive.alerts import Alert, Alerter, AlertKind
from callarchive.archive import (
    Archive,
    BatchReport,
    BatchReportEntry,
    DatabaseUnavailableError,
    ObjectStore,
    Recording,
    StoreUnavailableError,
    WorkStore,
    pair_folders,
    retention_expiry,
)
from callarchive.archive import Conversation as Archived
from callarchive.clock import Clock
from callarchive.configuration import FetchStrategy, ImportSource, Policy
from callarchive.errors import FatalError, RetryableError, SkipError
from callarchive.genesys import (
    Conversation,
    GenesysClient,
    GenesysError,
    GenesysPermissionError,
    MediaNotReadyError,
    NotFoundError,
    RequestRejectedError,
)
from callarchive.imports import metadata
from callarchive.imports.analysing import MediaAnalyser
from callarchive.imports.cursor import Cursor, CursorError
from callarchive.imports.cursor import parse as parse_cursor
from callarchive.imports.jobs import fulfilled_job
from callarchive.imports.listing import EarliestConversations, WindowPlan
from callarchive.imports.media import BATCH_SIZE, MediaFetcher, Target, media_limit
from callarchive.imports.partitions import PartitionBackfill
from callarchive.imports.report import Outcome, notification_text
from callarchive.imports.retry_buffer import Cdr, RetryBuffer, RetryReason
from callarchive.imports.users import UserDirectory
from callarchive.imports.window import Window, horizon, needs_async_job, next_window
from callarchive.rules import RuleBook, RuleMatch, compile_patterns

log = structlog.get_logger("callarchive.imports")

RETRY_BATCH = 25
# Conversations in flight at once. `transcode` spends most of a conversation's time waiting for
# Genesys to transcode (the recordings list holds up to maxWaitMs): to use the whole request
# budget (5 a second) while each waits about 2 s, a dozen or more must be under way.
CONCURRENCY = 24
# Most conversations one window takes (CALLARCHIVE_WINDOW_MAX_CONVERSATIONS).
MAX_WINDOW_CONVERSATIONS = 2000
BATCHES_IN_FLIGHT = 2  # batch jobs downloading at once (each up to BATCH_SIZE conversations)
# A retried CDR's start may be given to the second (CDRs written by hand, from the export); the
# details query matches conversations whose lifetime overlaps the interval.
RETRY_START_SLACK = dt.timedelta(seconds=1)
# How far the system clock may be ahead of Genesys's (its `Date`, whole seconds) before the run
# says so in an alert; the window never ends past Genesys's own horizon either way.
CLOCK_AHEAD_TOLERANCE = dt.timedelta(minutes=1)
# How far the horizon may fall behind the cursor before the run logs that the clock went back.
CLOCK_BEHIND_TOLERANCE = dt.timedelta(seconds=2)


class RunStatus(enum.StrEnum):
    """How a run ended."""

    COMPLETED = "completed"  # the window was done and the cursor advanced
    NOTHING_DUE = "nothing_due"  # the window was empty (the cursor is as close as it may be)
    STOPPED = "stopped"  # the run stopped early; the cursor did not move


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RunResult:
    status: RunStatus
    window: Window | None
    report: BatchReport
    cursor: Cursor | None
    message: str = ""

    @property
    def caught_up(self) -> bool:
        """True when the window ended at the horizon: nothing more is due until time passes."""
        return self.status is not RunStatus.COMPLETED or self.horizon_reached

    horizon_reached: bool = False
    # Stopped because the database or a store could not be reached (a restart, a network
    # outage): the same window may succeed when tried again in a moment.
    outage: bool = False

    def settled(self) -> RunResult:
        """This result without its report's line per conversation (stored with the report and
        sent in the notification): what a job or a catch-up keeps of each window, so its
        memory does not grow with the windows it has done."""
        return dataclasses.replace(self, report=dataclasses.replace(self.report, entries=()))


@dataclasses.dataclass(kw_only=True, slots=True)
class _Item:
    """One conversation on its way through the run."""

    conversation: Conversation
    cdr: Cdr | None = None
    match: RuleMatch | None = None
    sides: metadata.Sides | None = None
    existing: Archived | None = None
    entry: BatchReportEntry | None = None


Progress = Callable[[BatchReportEntry], None]


class ImportRun:
    """Runs one window of one policy and import source. Build one per run."""

    def __init__(
        self,
        *,
        archive: Archive,
        client: GenesysClient,
        objects: ObjectStore,
        work: WorkStore,
        clock: Clock,
        alerter: Alerter,
        policy: Policy,
        source: ImportSource,
        location: str,
        scratch: Path | None = None,
        progress: Progress | None = None,
        concurrency: int = CONCURRENCY,
        max_conversations: int = MAX_WINDOW_CONVERSATIONS,
        plan: WindowPlan | None = None,
    ) -> None:
        if policy.id is None or source.id is None:
            raise ValueError("the policy and the import source must be stored ones")
        self.archive = archive
        self.client = client
        self.objects = objects
        self.work = work
        self.clock = clock
        self.alerter = alerter
        self.policy = policy
        self.source = source
        self.policy_id: int = policy.id
        self.source_id: int = source.id
        self.location = location
        self.folders = pair_folders(policy.id, source.id)
        self.buffer = RetryBuffer(work, self.folders)
        self.analyser = MediaAnalyser(objects, scratch=scratch)
        self.media = MediaFetcher(client, objects, clock, scratch=scratch, analyser=self.analyser)
        self.users = UserDirectory(client, clock, dt.timedelta(minutes=source.cache_lifetime_min))
        self.partitions = PartitionBackfill(
            archive=archive,
            client=client,
            work=work,
            clock=clock,
            folders=self.folders,
            source=source,
        )
        self._progress = progress
        self._max_conversations = max_conversations
        self._shortened = False  # the window ends early: more conversations than the cap
        self._plan = plan if plan is not None else WindowPlan()
        self._limit = asyncio.Semaphore(concurrency)
        # SQLite has one writer: the run's saves queue here, not in SQLite's busy timeout,
        # which a burst of a few hundred concurrent saves on a busy machine outlasts.
        self._writes = asyncio.Lock()
        self._batches = asyncio.Semaphore(BATCHES_IN_FLIGHT)
        self._started = clock.now()
        self._entries: list[BatchReportEntry] = []
        # Conversations Genesys protects from deletion (None: unknown, so nothing is deleted).
        self._protected: set[str] | None = set()

    # -- the run ---------------------------------------------------------------------------

    async def execute(self) -> RunResult:
        """Do one window; never raises for conversation-level problems (they are reported)."""
        self._started = self.clock.now()
        try:
            ZoneInfo(self.source.recording_timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            return await self._stop(
                AlertKind.TIMEZONE_UNAVAILABLE,
                f"the Recording Timezone {self.source.recording_timezone!r} of import source "
                f"{self.source.name!r} cannot be resolved ({error}); the run stopped",
            )
        try:
            cursor = await self._cursor()
        except CursorError as error:
            return await self._stop(AlertKind.CURSOR_INVALID, str(error))
        now = self.clock.now()
        window = next_window(
            cursor.position,
            now,
            batch=dt.timedelta(minutes=self.source.batch_duration_min),
            max_recording_length=dt.timedelta(minutes=self.source.max_recording_length_min),
            availability_delay=dt.timedelta(minutes=self.source.availability_delay_min),
        )
        self._note_clock_behind(cursor, now)
        log.info(
            "run_started",
            policy_id=self.policy_id,
            import_source_id=self.source_id,
            window_start=window.start.isoformat(),
            window_end=window.end.isoformat(),
        )
        try:
            return await self._run(cursor, window)
        except (FatalError, RetryableError, GenesysError) as error:
            outage = isinstance(error, DatabaseUnavailableError | StoreUnavailableError)
            message = str(error)
            if outage:
                message += "; the cursor stays, and the window is done again once it is back"
            log.warning("run_stopped", error=message, outage=outage)
            return await self._stop(
                AlertKind.BATCH_RETRIEVAL_FAILED, message, window=window, outage=outage
            )

    async def _run(self, cursor: Cursor, window: Window) -> RunResult:
        await self.buffer.recover()
        cdrs = await self.buffer.take(RETRY_BATCH)
        for rejected in self.buffer.rejected:
            await self._alert(
                AlertKind.RETRY_FILE_REJECTED,
                f"retry buffer file {rejected.key} cannot be read ({rejected.error}); "
                "it was moved to the rejected folder",
            )
        backfilled = await self.partitions.position()
        found, window = await self._discover(window, backfilled)
        retried = await self._retried(cdrs, backfilled)
        rules = await self._rules()
        items = _merged(found, retried)
        await self._load_protection(items, cdrs)
        await self.users.load(uid for item in items for uid in metadata.user_ids(item.conversation))
        await asyncio.gather(*(self._classify(item, rules) for item in items))
        await self._fetch_and_archive([i for i in items if i.entry is None], rules)
        await self._retry_deletions([c for c in cdrs if c.reason is RetryReason.DELETE_PENDING])
        for item in items:
            if item.cdr is not None:
                await self.buffer.settle(item.cdr)
        new_cursor = cursor
        if not window.empty:
            # The cursor names the last conversation ingested (the seed's "last imported").
            ingested = (Outcome.IMPORTED.value, Outcome.ALREADY_IMPORTED.value)
            last = [
                i.conversation.conversation_id
                for i in items[: len(found)]
                if i.entry is not None and i.entry.outcome in ingested
            ]
            new_cursor = Cursor(
                position=window.end, conversation_id=last[-1] if last else cursor.conversation_id
            )
        full = window.start + dt.timedelta(minutes=self.source.batch_duration_min)
        # A window cut short by the cap on its conversations has not reached the horizon.
        reached = window.end < full and not self._shortened
        await self._backfill_partitions(new_cursor, caught_up=window.empty or reached)
        if not window.empty:
            await self.work.put(self.folders.cursor, new_cursor.render().encode())
        status = RunStatus.NOTHING_DUE if window.empty else RunStatus.COMPLETED
        report = await self._report(window)
        log.info(
            "run_finished",
            status=status.value,
            imported=report.imported,
            retry_buffered=report.retry_buffered,
            skipped=report.skipped_by_rules,
        )
        return RunResult(
            status=status,
            window=window,
            report=report,
            cursor=new_cursor,
            horizon_reached=reached,
        )

    def _horizon(self, now: dt.datetime) -> dt.datetime:
        return horizon(
            now,
            max_recording_length=dt.timedelta(minutes=self.source.max_recording_length_min),
            availability_delay=dt.timedelta(minutes=self.source.availability_delay_min),
        )

    def _note_clock_behind(self, cursor: Cursor, now: dt.datetime) -> None:
        """Log when the horizon lies behind the cursor: the clock was set back since the cursor
        was written. Nothing is due until it passes the cursor again; the cursor stays."""
        behind = cursor.position - self._horizon(now)
        if behind > CLOCK_BEHIND_TOLERANCE:
            log.warning(
                "clock_behind_cursor",
                policy_id=self.policy_id,
                import_source_id=self.source_id,
                cursor=cursor.position.isoformat(),
                now=now.isoformat(),
                behind_s=round(behind.total_seconds(), 3),
            )

    async def _within_genesys_time(self, window: Window) -> Window:
        """`window`, ending no later than the horizon of Genesys's own time (its answers'
        `Date`): a system clock that leapt ahead must not carry the cursor past conversations
        that have not happened yet, or not ended, in Genesys."""
        server = self.client.server_time()
        if server is None:
            return window
        now = self.clock.now()
        if now - server > CLOCK_AHEAD_TOLERANCE:
            log.warning(
                "clock_ahead_of_genesys",
                now=now.isoformat(),
                genesys=server.isoformat(),
                ahead_s=round((now - server).total_seconds()),
            )
            await self._alert(
                AlertKind.CLOCK_AHEAD,
                f"this server's clock ({now:%Y-%m-%d %H:%M:%S} UTC) is {now - server} ahead of "
                f"Genesys Cloud's ({server:%Y-%m-%d %H:%M:%S} UTC); the import goes no further "
                "than Genesys's time allows, so nothing is passed over, but check the time "
                "synchronisation (NTP) of this server",
            )
        # Date has whole seconds: Genesys's time is up to a second later than it says.
        limit = self._horizon(server + dt.timedelta(seconds=1))
        if window.end <= limit:
            return window
        return Window(start=window.start, end=max(window.start, limit))

    async def _cursor(self) -> Cursor:
        data = await self.work.get(self.folders.cursor)
        if data is None:
            return Cursor(position=self.source.recording_start.astimezone(dt.UTC))
        return parse_cursor(data, now=self.clock.now(), source=self.folders.cursor)

    async def _backfill_partitions(self, cursor: Cursor, *, caught_up: bool) -> None:
        """A partition backfill step when one is due; its failure is the next run's to retry
        and leaves the window's import as it is."""
        try:
            await self.partitions.step(cursor=cursor.position, caught_up=caught_up)
        except (GenesysError, RetryableError) as error:
            log.warning("partition_backfill_failed", error=str(error))

    async def _rules(self) -> RuleBook:
        configuration = await self.archive.load_configuration()
        return RuleBook(configuration.users, configuration.extensions)

    # -- discovery -------------------------------------------------------------------------

    async def _discover(
        self, window: Window, backfilled: dt.datetime | None
    ) -> tuple[list[Conversation], Window]:
        """The window's conversations (started inside it), in start order; the window may
        shrink to where the job's plan ends it, to what the async jobs' data covers, to the
        part behind the partition backfill (read through a job, for its participant
        attributes), or, when more than `max_conversations` start in it, to end where the first
        one beyond them starts (the plan then holds where the following windows end)."""
        if window.empty:
            return [], window
        planned = self._plan.end_after(window.start)
        if planned is not None and planned < window.end:
            log.info("window_planned", start=window.start, end=planned, planned_end=window.end)
            window = Window(start=window.start, end=planned)
            self._shortened = True
        by_job = True
        if backfilled is not None and window.start < backfilled:
            window = Window(start=window.start, end=min(window.end, backfilled))
        elif needs_async_job(window, self.clock.now()):
            available = await self.client.data_availability()
            if window.end > available:
                window = Window(start=window.start, end=max(window.start, available))
            if window.empty:
                return [], window
        else:
            by_job = False
        listing = await self._listing(window, by_job=by_job, cap=self._max_conversations)
        cuts = listing.cut_points()
        if cuts:
            log.info(
                "window_shortened",
                start=window.start,
                end=cuts[0],
                planned_end=window.end,
                windows_planned=len(cuts),
            )
            self._plan.replace(window.start, cuts)
            window = Window(start=window.start, end=cuts[0])
            self._shortened = True
        found = listing.before(cuts[0] if cuts else None)
        if found is None:  # more than the cap start at the window's first instant: all go in
            found = (await self._listing(window, by_job=by_job, cap=None)).before(None) or []
        window = await self._within_genesys_time(window)
        return [c for c in found if window.start <= c.conversation_start < window.end], window

    async def _listing(
        self, window: Window, *, by_job: bool, cap: int | None
    ) -> EarliestConversations:
        """The earliest `cap` + 1 (all, when None) of the conversations Genesys lists as
        starting in `window`, and all their start times: memory stays bounded whatever the
        listing's size and order."""
        kept = EarliestConversations(window.start, window.end, cap)
        async for conversation in self._listed(window.start, window.end, by_job=by_job):
            kept.add(conversation)
        return kept

    async def _listed(
        self, start: dt.datetime, end: dt.datetime, *, by_job: bool, ids: Sequence[str] = ()
    ) -> AsyncIterator[Conversation]:
        """What Genesys lists for [start, end): through a details job (deleted once read) or
        the details query."""
        if not by_job:
            async with contextlib.aclosing(self.client.query_conversations(start, end)) as listed:
                async for conversation in listed:
                    yield conversation
            return
        job_id = await fulfilled_job(self.client, self.clock, start, end, ids)
        async with contextlib.aclosing(self.client.details_job_results(job_id)) as results:
            async for conversation in results:
                yield conversation
        await self.client.delete_details_job(job_id)

    async def _retried(self, cdrs: Sequence[Cdr], backfilled: dt.datetime | None) -> list[_Item]:
        """The conversations of retried CDRs, fetched again from Genesys (through a job when
        too old for the query or behind the partition backfill)."""
        items: list[_Item] = []
        for cdr in cdrs:
            if cdr.reason is RetryReason.DELETE_PENDING:
                continue
            start = cdr.conversation_start - RETRY_START_SLACK
            end = cdr.conversation_start + RETRY_START_SLACK
            try:
                behind = backfilled is not None and cdr.conversation_start < backfilled
                if behind or needs_async_job(Window(start=start, end=end), self.clock.now()):
                    ids = [cdr.conversation_id]
                    found = [c async for c in self._listed(start, end, by_job=True, ids=ids)]
                else:
                    found = [
                        c
                        async for c in self.client.query_conversations(
                            start, end, conversation_ids=[cdr.conversation_id]
                        )
                    ]
            except (RetryableError, SkipError) as error:
                await self._retry_failed(cdr, str(error))
                continue
            match = [c for c in found if c.conversation_id == cdr.conversation_id]
            if not match:
                await self._retry_failed(
                    cdr, "Genesys did not return the conversation (is its start time right?)"
                )
                continue
            items.append(_Item(conversation=match[0], cdr=cdr))
        return items

    async def _retry_failed(self, cdr: Cdr, message: str) -> None:
        """A retried CDR whose conversation cannot be read: back to the buffer, with an alert."""
        await self._buffer(cdr, None, RetryReason.FAILED, message)
        await self._alert(
            AlertKind.IMPORT_FAILED,
            f"conversation {cdr.conversation_id}: {message}; the CDR stays in the retry buffer",
        )
        self._record(cdr.conversation_id, Outcome.FAILED, None)

    # -- classification --------------------------------------------------------------------

    async def _classify(self, item: _Item, rules: RuleBook) -> None:
        """Decide everything that needs no media: in progress, rules, already imported."""
        async with self._limit:
            conversation = item.conversation
            if not conversation.ended:
                await self._buffer(
                    item.cdr,
                    conversation,
                    RetryReason.IN_PROGRESS,
                    "the conversation has not ended yet",
                )
                item.entry = self._record(
                    conversation.conversation_id, Outcome.RETRY_BUFFERED, item
                )
                return
            item.sides = metadata.sides(conversation, self.users)
            item.match = rules.match(
                [party for _, party in item.sides.parties],
                ani=item.sides.ani,
                dnis=item.sides.dnis,
                at=conversation.conversation_start,
            )
            if item.match is None:
                item.entry = self._record(
                    conversation.conversation_id, Outcome.SKIPPED_BY_RULES, item
                )
                return
            item.existing = await self.archive.conversations.find(
                self.source_id, conversation.conversation_id
            )
            if item.existing is not None and item.existing.media_complete:
                protected = await self._delete_in_genesys(item.existing, item)
                item.entry = self._record(
                    conversation.conversation_id,
                    Outcome.ALREADY_IMPORTED,
                    item,
                    archive_id=item.existing.id,
                    deletion_protected=protected,
                )

    # -- media and archive -----------------------------------------------------------------

    def _target(self, item: _Item) -> Target:
        have = frozenset(
            r.recording_id
            for r in (item.existing.recordings if item.existing else ())
            if r.codec == self.source.codec
        )
        conversation = item.conversation
        lasted = (
            conversation.conversation_end or self.clock.now()
        ) - conversation.conversation_start
        longest = max(lasted, dt.timedelta(minutes=self.source.max_recording_length_min))
        return Target(
            import_source_id=self.source_id,
            conversation_id=conversation.conversation_id,
            start=conversation.conversation_start,
            codec=self.source.codec,
            have=have,
            max_bytes=media_limit(longest),
            retain_until=retention_expiry(
                conversation.conversation_start,
                policy_days=self.policy.retention_days,
                user_days=item.match.user.retention_days if item.match else None,
            ),
        )

    async def _fetch_and_archive(self, items: list[_Item], rules: RuleBook) -> None:
        if not items:
            return
        if self.source.fetch_strategy is FetchStrategy.BATCH:
            chunks = [items[i : i + BATCH_SIZE] for i in range(0, len(items), BATCH_SIZE)]
            await asyncio.gather(*(self._fetch_batch(chunk, rules) for chunk in chunks))
            return
        await asyncio.gather(*(self._fetch_one(i, rules) for i in items))

    async def _fetch_batch(self, items: list[_Item], rules: RuleBook) -> None:
        """One batch job's conversations: archived as soon as their media is stored, while
        the next job is submitted and downloaded."""
        async with self._batches:
            outcomes = await self.media.by_batch([self._target(i) for i in items])
        await asyncio.gather(
            *(self._archive_item(i, rules, outcomes[i.conversation.conversation_id]) for i in items)
        )

    async def _fetch_one(self, item: _Item, rules: RuleBook) -> None:
        async with self._limit:
            try:
                outcome: list[Recording] | Exception = await self.media.by_conversation(
                    self._target(item)
                )
            except (SkipError, RetryableError) as error:
                outcome = error
        await self._archive_item(item, rules, outcome)

    async def _archive_item(
        self,
        item: _Item,
        rules: RuleBook,
        outcome: list[Recording] | Exception,
    ) -> None:
        conversation = item.conversation
        if isinstance(outcome, MediaNotReadyError):
            await self._media_not_ready(item, str(outcome))
            return
        if isinstance(outcome, Exception) and not isinstance(outcome, SkipError | RetryableError):
            raise outcome  # fatal (permission, storage): the run stops, the cursor stays
        if isinstance(outcome, Exception):
            await self._buffer(item.cdr, conversation, RetryReason.FAILED, str(outcome))
            await self._alert(
                AlertKind.IMPORT_FAILED, f"conversation {conversation.conversation_id}: {outcome}"
            )
            item.entry = self._record(conversation.conversation_id, Outcome.FAILED, item)
            return
        assert item.match is not None  # noqa: S101 - classified before fetching
        assert item.sides is not None  # noqa: S101
        measured = await self.analyser.measure(outcome)
        archived = dataclasses.replace(
            metadata.build(
                conversation,
                match=item.match,
                call_sides=item.sides,
                rules=rules,
                patterns=compile_patterns(self.source.internal_number_patterns),
                import_source_id=self.source_id,
                policy_id=self.policy_id,
                location=self.location,
                codec=self.source.codec,
            ),
            recordings=measured.recordings,
            media_complete=True,
            **measured.fields,
        )
        async with self._writes:
            saved = await self.archive.conversations.save(archived)
        for failure in measured.undecodable:
            await self._alert(
                AlertKind.MEDIA_UNDECODABLE,
                f"conversation {conversation.conversation_id}, recording {failure}; it is "
                "archived without audio analysis",
                conversation_id=saved.id,
            )
        stored = dataclasses.replace(archived, id=saved.id)
        protected = await self._delete_in_genesys(stored, item)
        item.entry = self._record(
            conversation.conversation_id,
            Outcome.IMPORTED if saved.newly_imported else Outcome.ALREADY_IMPORTED,
            item,
            archive_id=saved.id,
            media_downloaded=bool(saved.new_recordings),
            deletion_protected=protected,
        )

    async def _media_not_ready(self, item: _Item, message: str) -> None:
        conversation = item.conversation
        end = conversation.conversation_end or self.clock.now()
        overdue = self.clock.now() - end > dt.timedelta(minutes=self.source.availability_delay_min)
        retried = item.cdr is not None
        await self._buffer(item.cdr, conversation, RetryReason.MEDIA_NOT_READY, message)
        if retried and overdue:
            await self._alert(
                AlertKind.IMPORT_FAILED,
                f"conversation {conversation.conversation_id}: no media after the availability "
                f"delay ({message}); the CDR stays in the retry buffer",
            )
            item.entry = self._record(conversation.conversation_id, Outcome.FAILED, item)
        else:
            item.entry = self._record(conversation.conversation_id, Outcome.RETRY_BUFFERED, item)

    # -- deleting the cloud copy -----------------------------------------------------------

    async def _load_protection(self, items: Sequence[_Item], cdrs: Sequence[Cdr]) -> None:
        """Ask Genesys which of the run's conversations it protects from deletion (only for
        On Completion Delete); when it cannot say, nothing is deleted in this run."""
        if not self.source.delete_on_completion:
            return
        ids = [i.conversation.conversation_id for i in items]
        ids += [c.conversation_id for c in cdrs if c.reason is RetryReason.DELETE_PENDING]
        try:
            self._protected = await self.client.deletion_protected(ids) if ids else set()
        except (GenesysError, RetryableError, SkipError) as error:
            log.warning("deletion_protection_unknown", error=str(error))
            self._protected = None

    async def _delete_in_genesys(self, archived: Archived, item: _Item | None) -> bool:
        """Set deleteDate on every recording that is archived and verified (On Completion
        Delete); a refusal raises an alert and leaves a CDR to retry the deletion. Recordings
        Genesys protects from deletion are left alone (True: that happened), not an error."""
        if not self.source.delete_on_completion:
            return False
        pending = [r for r in archived.recordings if r.deleted_in_genesys_at is None]
        if pending and self._protected is not None and archived.genesys_id in self._protected:
            log.info(
                "recording_deletion_skipped",
                reason="deletion_protected",
                conversation_id=archived.genesys_id,
                recordings=len(pending),
            )
            return True
        failures: list[str] = []
        if pending and self._protected is None:
            failures = [r.recording_id for r in pending]
            await self._alert(
                AlertKind.DELETE_FAILED,
                f"conversation {archived.genesys_id}: Genesys could not say whether it protects "
                "the recordings from deletion; the deletion is retried",
                conversation_id=archived.id,
            )
            pending = []
        for recording in pending:
            await self.objects.verify(recording.object_key, recording.sha256)
            now = self.clock.now()
            try:
                await self.client.set_delete_date(archived.genesys_id, recording.recording_id, now)
            except (NotFoundError, RequestRejectedError) as error:
                log.info(
                    "recording_already_gone", recording_id=recording.recording_id, error=str(error)
                )
            except (GenesysPermissionError, SkipError, RetryableError) as error:
                failures.append(recording.recording_id)
                await self._alert(
                    AlertKind.DELETE_FAILED,
                    f"conversation {archived.genesys_id}, recording {recording.recording_id}: "
                    f"{error}",
                    conversation_id=archived.id,
                )
                continue
            await self.archive.conversations.mark_deleted_in_genesys(
                recording.recording_id, recording.codec, at=now
            )
        if failures:
            cdr = Cdr(
                conversation_id=archived.genesys_id,
                conversation_start=archived.start,
                policy_id=self.policy_id,
                import_source_id=self.source_id,
                reason=RetryReason.DELETE_PENDING,
                message="setting the delete date in Genesys failed",
                attempts=1,
                first_failed_at=self.clock.now(),
                last_failed_at=self.clock.now(),
                recording_ids=tuple(failures),
            )
            if item is not None and item.cdr is not None:
                cdr = item.cdr.failed_again(
                    reason=RetryReason.DELETE_PENDING, message=cdr.message, at=self.clock.now()
                )
            await self.buffer.add(dataclasses.replace(cdr, recording_ids=tuple(failures)))
        return False

    async def _retry_deletions(self, cdrs: Sequence[Cdr]) -> None:
        for cdr in cdrs:
            archived = await self.archive.conversations.find(self.source_id, cdr.conversation_id)
            if archived is not None:
                await self._delete_in_genesys(
                    dataclasses.replace(
                        archived,
                        recordings=tuple(
                            r for r in archived.recordings if r.recording_id in cdr.recording_ids
                        ),
                    ),
                    _Item(conversation=_placeholder(cdr), cdr=cdr),
                )
            await self.buffer.settle(cdr)

    # -- retry buffer, alerts, report ------------------------------------------------------

    async def _buffer(
        self, cdr: Cdr | None, conversation: Conversation | None, reason: RetryReason, message: str
    ) -> None:
        now = self.clock.now()
        if cdr is not None:
            again = cdr.failed_again(reason=reason, message=message, at=now)
        else:
            assert conversation is not None  # noqa: S101 - a new CDR needs its conversation
            again = Cdr(
                conversation_id=conversation.conversation_id,
                conversation_start=conversation.conversation_start.astimezone(dt.UTC),
                policy_id=self.policy_id,
                import_source_id=self.source_id,
                reason=reason,
                message=message,
                attempts=1,
                first_failed_at=now,
                last_failed_at=now,
            )
        await self.buffer.add(again)
        if cdr is None:
            await self._alert(
                AlertKind.RETRY_BUFFERED,
                f"conversation {again.conversation_id}: {message}; its CDR was placed in the "
                "retry buffer",
            )

    async def _alert(
        self, kind: AlertKind, message: str, *, conversation_id: int | None = None
    ) -> None:
        await self.alerter.raise_(
            Alert(
                kind=kind,
                message=message,
                policy_id=self.policy_id,
                import_source_id=self.source_id,
                conversation_id=conversation_id,
            )
        )

    def _record(
        self,
        genesys_id: str,
        outcome: Outcome,
        item: _Item | None,
        *,
        archive_id: int | None = None,
        media_downloaded: bool = False,
        deletion_protected: bool = False,
    ) -> BatchReportEntry:
        match = item.match if item else None
        sides = item.sides if item else None
        number = None
        if sides is not None:
            outgoing = bool(match and match.party and match.party.dialed)
            number = sides.dnis if outgoing else sides.ani
        entry = BatchReportEntry(
            genesys_conversation_id=genesys_id,
            outcome=outcome.value,
            conversation_id=archive_id,
            extension=match.extension.value if match else None,
            participant_number=number,
            newly_imported=outcome is Outcome.IMPORTED,
            media_downloaded=media_downloaded,
            already_imported=outcome is Outcome.ALREADY_IMPORTED,
            deletion_protected=deletion_protected,
        )
        self._entries.append(entry)
        if self._progress is not None:
            self._progress(entry)
        return entry

    async def _report(self, window: Window | None, *, notify: bool = True) -> BatchReport:
        """Store the run's batch report; raise the end-of-batch notification when it ran."""
        entries = tuple(self._entries)

        def count(outcome: Outcome) -> int:
            return sum(1 for e in entries if e.outcome == outcome.value)

        report = BatchReport(
            policy_id=self.policy_id,
            import_source_id=self.source_id,
            started_at=self._started,
            finished_at=self.clock.now(),
            window_start=window.start if window and not window.empty else None,
            window_end=window.end if window and not window.empty else None,
            server=self.location,
            discovered=len(entries),
            imported=count(Outcome.IMPORTED),
            already_imported=count(Outcome.ALREADY_IMPORTED),
            skipped_by_rules=count(Outcome.SKIPPED_BY_RULES),
            retry_buffered=count(Outcome.RETRY_BUFFERED),
            failed=count(Outcome.FAILED),
            media_downloaded=sum(1 for e in entries if e.media_downloaded),
            entries=entries,
        )
        report_id = await self.archive.batch_reports.add(report)
        if notify:
            await self._alert(AlertKind.BATCH_NOTIFICATION, notification_text(report))
        return dataclasses.replace(report, id=report_id)

    async def _stop(
        self, kind: AlertKind, message: str, *, window: Window | None = None, outage: bool = False
    ) -> RunResult:
        await self._alert(kind, message)
        report = await self._report(None, notify=False)  # the alert above says what happened
        return RunResult(
            status=RunStatus.STOPPED,
            window=window,
            report=report,
            cursor=None,
            message=message,
            outage=outage,
        )


def _merged(found: Sequence[Conversation], retried: Sequence[_Item]) -> list[_Item]:
    """The window's conversations, then the retried ones not among them: a retried CDR of a
    conversation in the window rides with it, so the conversation is handled and reported once."""
    items = [_Item(conversation=c) for c in found]
    in_window = {item.conversation.conversation_id: item for item in items}
    for item in retried:
        twin = in_window.get(item.conversation.conversation_id)
        if twin is None:
            items.append(item)
        else:
            twin.cdr = item.cdr
    return items


def _placeholder(cdr: Cdr) -> Conversation:
    return Conversation(
        conversation_id=cdr.conversation_id, conversation_start=cdr.conversation_start
    )


__all__ = ["ImportRun", "RunResult", "RunStatus"]
