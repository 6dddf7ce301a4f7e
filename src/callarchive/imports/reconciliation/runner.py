"""Reconciling one past day of a policy and import source: ask, account, store, alert.

`Reconciler.reconcile(day)` lists Genesys's recorded voice conversations of the day the way the
import discovers them (the details query within its 35 days' reach, the async details jobs
beyond it, bounded by `dataAvailabilityDate`), reads the retry buffer and then the archive,
accounts for each conversation (`account`), stores the result and raises "Conversations missing
from the archive" when some are. Missing ones must be missing in two readings of the buffer and
the archive, so a run moving a CDR at that moment does not raise a false alarm.
`Reconciler.reimport(result)` adds the missing ones to the retry buffer (crash-safe: the next
run imports them as it imports any retried CDR).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import structlog

from callarchive.alerts import Alert, Alerter, AlertKind
from callarchive.archive import Archive, DayReconciliation, Unaccounted, WorkStore, pair_folders
from callarchive.clock import Clock
from callarchive.configuration import ImportSource, Policy
from callarchive.errors import ConfigurationError, RetryableError
from callarchive.genesys import Conversation, GenesysClient
from callarchive.imports import metadata
from callarchive.imports.cursor import Cursor
from callarchive.imports.cursor import parse as parse_cursor
from callarchive.imports.jobs import fulfilled_job
from callarchive.imports.reconciliation.accounting import (
    Accounted,
    DayAccount,
    Verdict,
    account,
    day_window,
)
from callarchive.imports.retry_buffer import Cdr, RetryBuffer, RetryReason
from callarchive.imports.users import UserDirectory
from callarchive.imports.window import Window, horizon, needs_async_job
from callarchive.rules import RuleBook

log = structlog.get_logger("callarchive.imports")

LISTED_IN_ALERT = 20  # missing conversation ids named in the alert's message


def reconcilable(source: ImportSource, now: dt.datetime) -> Window:
    """The span whose days may be reconciled now: from the Recording Start Timestamp to the
    import's horizon (a day must end before it: its conversations have ended and uploaded)."""
    limit = horizon(
        now,
        max_recording_length=dt.timedelta(minutes=source.max_recording_length_min),
        availability_delay=dt.timedelta(minutes=source.availability_delay_min),
    )
    return Window(start=source.recording_start.astimezone(dt.UTC), end=limit)


class Reconciler:
    """Reconciles days of one policy and import source. One per pair; days one at a time."""

    def __init__(
        self,
        *,
        archive: Archive,
        client: GenesysClient,
        work: WorkStore,
        clock: Clock,
        alerter: Alerter,
        policy: Policy,
        source: ImportSource,
        server: str | None = None,
    ) -> None:
        if policy.id is None or source.id is None:
            raise ValueError("the policy and the import source must be stored ones")
        self.archive = archive
        self.client = client
        self.work = work
        self.clock = clock
        self.alerter = alerter
        self.policy = policy
        self.source = source
        self.policy_id: int = policy.id
        self.source_id: int = source.id
        self.server = server
        self.folders = pair_folders(policy.id, source.id)
        self.buffer = RetryBuffer(work, self.folders)

    async def reconcile(self, day: dt.date) -> tuple[DayReconciliation, DayAccount]:
        """Account for every recorded conversation of `day`; store the result, alert on missing
        ones. `ConfigurationError` (field "day") for a day that may not be reconciled yet."""
        started = self.clock.now()
        window = self._window(day)
        listed = await self._listed(window)
        found = await self._account(day, window, listed)
        if found.count(Verdict.MISSING):
            found = await self._account(day, window, listed, only=found.having(Verdict.MISSING))
        result = await self._store(found, started)
        log.info(
            "day_reconciled",
            policy_id=self.policy_id,
            import_source_id=self.source_id,
            day=day.isoformat(),
            total=result.genesys_total,
            missing=result.missing,
        )
        if result.missing:
            await self._alert(result)
        return result, found

    async def reimport(self, found: DayAccount) -> tuple[DayReconciliation, list[str]]:
        """Put the missing conversations of `found` into the retry buffer (the next run imports
        them); the day's result updated accordingly, and the buffer keys written."""
        now = self.clock.now()
        keys = []
        for entry in found.having(Verdict.MISSING):
            cdr = Cdr(
                conversation_id=entry.conversation_id,
                conversation_start=entry.start,
                policy_id=self.policy_id,
                import_source_id=self.source_id,
                reason=RetryReason.MANUAL,
                message=f"missing at the reconciliation of {found.day.isoformat()}",
            )
            keys.append(await self.buffer.add(cdr))
        log.info("missing_conversations_requeued", day=found.day.isoformat(), count=len(keys))
        queued = DayAccount(
            day=found.day,
            entries=tuple(
                dataclasses.replace(e, verdict=Verdict.RETRY_BUFFERED)
                if e.verdict is Verdict.MISSING
                else e
                for e in found.entries
            ),
            archive_only=found.archive_only,
        )
        return await self._store(queued, now), keys

    # -- steps -----------------------------------------------------------------------------

    def _window(self, day: dt.date) -> Window:
        window = day_window(day, self.source.recording_timezone)
        allowed = reconcilable(self.source, self.clock.now())
        if window.end > allowed.end:
            raise ConfigurationError(
                f"{day.isoformat()} cannot be reconciled before {allowed_after(window, self)} UTC "
                "(the day's end plus the Maximum Recording Length and the Availability Delay)",
                field="day",
            )
        if window.end <= allowed.start:
            raise ConfigurationError(
                f"{day.isoformat()} ends before the Recording Start Timestamp "
                f"{allowed.start:%Y-%m-%d %H:%M} UTC of import source {self.source.name!r}",
                field="day",
            )
        # Conversations before the Recording Start Timestamp are not to be imported.
        return Window(start=max(window.start, allowed.start), end=window.end)

    async def _listed(self, window: Window) -> list[Conversation]:
        """Genesys's recorded voice conversations overlapping the window, as the import lists
        them (the caller keeps those that started inside it)."""
        if not needs_async_job(window, self.clock.now()):
            return [c async for c in self.client.query_conversations(window.start, window.end)]
        available = await self.client.data_availability()
        if window.end > available:
            raise RetryableError(
                f"Genesys's analytics data is complete only until {available:%Y-%m-%d %H:%M} "
                "UTC; reconcile this day once it covers the whole day"
            )
        job_id = await fulfilled_job(self.client, self.clock, window.start, window.end)
        found = [c async for c in self.client.details_job_results(job_id)]
        await self.client.delete_details_job(job_id)
        return found

    async def _account(
        self,
        day: dt.date,
        window: Window,
        listed: Sequence[Conversation],
        *,
        only: Sequence[Accounted] | None = None,
    ) -> DayAccount:
        """The accounting of the day; with `only`, the earlier accounting's missing ones
        checked again (the rest keep their verdicts)."""
        # The buffer before the archive: a CDR a run takes and archives meanwhile is seen in one.
        buffered = await self.buffer.waiting()
        archived = await self.archive.reconciliations.archived(
            self.source_id, window.start, window.end
        )
        deleted = await self.archive.retention.deleted(self.source_id, window.start, window.end)
        cursor = await self._cursor()
        rules = await self._rules()
        users = UserDirectory(
            self.client, self.clock, dt.timedelta(minutes=self.source.cache_lifetime_min)
        )
        undecided = [
            c
            for c in listed
            if not archived.get(c.conversation_id)
            and c.conversation_id not in buffered
            and c.conversation_id not in deleted
        ]
        await users.load(uid for c in undecided for uid in metadata.user_ids(c))

        def recorded(conversation: Conversation) -> bool:
            sides = metadata.sides(conversation, users)
            parties = [party for _, party in sides.parties]
            at = conversation.conversation_start
            return rules.match(parties, ani=sides.ani, dnis=sides.dnis, at=at) is not None

        found = account(
            day,
            window,
            listed,
            archived=archived,
            buffered=buffered.keys(),
            cursor=cursor.position,
            recorded=recorded,
            deleted=deleted,
        )
        if only is None:
            return found
        again = {e.conversation_id: e for e in found.entries}
        earlier = {e.conversation_id for e in only}
        return dataclasses.replace(
            found,
            entries=tuple(
                again[e.conversation_id] if e.conversation_id in earlier else e
                for e in found.entries
            ),
        )

    async def _cursor(self) -> Cursor:
        data = await self.work.get(self.folders.cursor)
        if data is None:
            return Cursor(position=self.source.recording_start.astimezone(dt.UTC))
        return parse_cursor(data, now=self.clock.now(), source=self.folders.cursor)

    async def _rules(self) -> RuleBook:
        configuration = await self.archive.load_configuration()
        return RuleBook(configuration.users, configuration.extensions)

    async def _store(self, found: DayAccount, started: dt.datetime) -> DayReconciliation:
        def listed(verdict: Verdict) -> tuple[Unaccounted, ...]:
            return tuple(
                Unaccounted(conversation_id=e.conversation_id, start=e.start)
                for e in found.having(verdict)
            )

        result = DayReconciliation(
            policy_id=self.policy_id,
            import_source_id=self.source_id,
            day=found.day,
            started_at=started,
            finished_at=self.clock.now(),
            server=self.server,
            genesys_total=len(found.entries),
            archived=found.count(Verdict.ARCHIVED),
            skipped_by_rules=found.count(Verdict.SKIPPED_BY_RULES),
            retry_buffered=found.count(Verdict.RETRY_BUFFERED),
            not_reached=found.count(Verdict.NOT_REACHED),
            missing=found.count(Verdict.MISSING),
            archive_only=len(found.archive_only),
            deleted_by_retention=found.count(Verdict.DELETED_BY_RETENTION),
            missing_conversations=listed(Verdict.MISSING),
            retry_buffered_conversations=listed(Verdict.RETRY_BUFFERED),
        )
        return dataclasses.replace(result, id=await self.archive.reconciliations.save(result))

    async def _alert(self, result: DayReconciliation) -> None:
        ids = [m.conversation_id for m in result.missing_conversations]
        named = ", ".join(ids[:LISTED_IN_ALERT]) + (" …" if len(ids) > LISTED_IN_ALERT else "")
        day = result.day.isoformat()
        await self.alerter.raise_(
            Alert(
                kind=AlertKind.CONVERSATIONS_MISSING,
                message=(
                    f"{result.missing} of {result.genesys_total} recorded conversations of {day} "
                    f"from import source {self.source.name!r} are neither archived, skipped by "
                    f"rules nor in the retry buffer: {named}. Re-import them with `callarchive "
                    f"reconcile --policy {self.policy.name!r} --source {self.source.name!r} "
                    f"--day {day} --reimport`"
                ),
                details={"day": day, "missing": ids},
                policy_id=self.policy_id,
                import_source_id=self.source_id,
            )
        )


def allowed_after(window: Window, reconciler: Reconciler) -> str:
    """When a day ending with `window` may be reconciled, as text."""
    source = reconciler.source
    lag = dt.timedelta(minutes=source.max_recording_length_min + source.availability_delay_min)
    return f"{window.end + lag:%Y-%m-%d %H:%M}"


__all__ = ["LISTED_IN_ALERT", "Reconciler", "reconcilable"]
