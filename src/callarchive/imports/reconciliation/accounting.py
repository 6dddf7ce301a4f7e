"""Reconciliation accounting: a pure verdict for each of Genesys's conversations of one day.

Given the recorded voice conversations Genesys lists for a day, what the archive holds of that
day, the retry buffer, the import cursor and the recording rules, each conversation gets one
verdict, decided in this order:

    archived          in the archive with its media (whatever the rules say today)
    deleted_by_retention  archived, then deleted by retention past its retention period (the
                      `retention_deleted` audit entry says so): kept as long as it had to be
    retry_buffered    its CDR waits in the retry buffer (or is in flight in a run)
    not_reached       it starts at or after the import cursor: the import has not got there
    skipped_by_rules  no recorded user took part: the import counts it skipped, by design
    missing           none of these: it should be archived and is not

A day is complete when every conversation is archived, deleted by retention or skipped by
rules. Archived conversations of the day that Genesys no longer lists (deleted there after
archiving, On Completion Delete) are counted apart (`archive_only`): they are not a loss.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from enum import StrEnum
from zoneinfo import ZoneInfo

from callarchive.genesys import Conversation
from callarchive.imports.window import Window


class Verdict(StrEnum):
    """What became of one of Genesys's conversations of the day."""

    ARCHIVED = "archived"  # archived with its media
    DELETED_BY_RETENTION = "deleted_by_retention"  # archived, then deleted past its retention
    RETRY_BUFFERED = "retry_buffered"  # waiting in the retry buffer; the next runs retry it
    NOT_REACHED = "not_reached"  # after the import cursor: not imported yet, not lost
    SKIPPED_BY_RULES = "skipped_by_rules"  # no recorded user took part
    MISSING = "missing"  # should be archived and is not: lost unless re-imported


# The verdicts of a conversation that needs nothing more.
FINAL = frozenset({Verdict.ARCHIVED, Verdict.DELETED_BY_RETENTION, Verdict.SKIPPED_BY_RULES})


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Accounted:
    """One conversation of the day and its verdict."""

    conversation_id: str
    start: dt.datetime
    verdict: Verdict


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DayAccount:
    """Every conversation Genesys lists for the day, accounted for, in start order."""

    day: dt.date
    entries: tuple[Accounted, ...]
    archive_only: tuple[str, ...] = ()

    def count(self, verdict: Verdict) -> int:
        return sum(1 for entry in self.entries if entry.verdict is verdict)

    def having(self, verdict: Verdict) -> tuple[Accounted, ...]:
        return tuple(entry for entry in self.entries if entry.verdict is verdict)

    @property
    def complete(self) -> bool:
        """True when every conversation is archived, deleted by retention or skipped by rules."""
        return all(entry.verdict in FINAL for entry in self.entries)


def day_window(day: dt.date, timezone: str) -> Window:
    """The day from midnight to midnight in `timezone` (the Recording Timezone), in UTC; 23
    or 25 hours long on the days clocks change."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return Window(start=start.astimezone(dt.UTC), end=end.astimezone(dt.UTC))


def due_day(*, limit: dt.datetime, start: dt.datetime, timezone: str) -> dt.date | None:
    """The latest day (in `timezone`) that ends at or before `limit`, the earlier of the
    import's horizon and its cursor; None when that day ends before `start` (the Recording
    Start Timestamp): nothing to reconcile yet."""
    day = limit.astimezone(ZoneInfo(timezone)).date() - dt.timedelta(days=1)
    if day_window(day, timezone).end <= start:
        return None
    return day


def account(
    day: dt.date,
    window: Window,
    conversations: Iterable[Conversation],
    *,
    archived: Mapping[str, bool],
    buffered: Collection[str],
    cursor: dt.datetime,
    recorded: Callable[[Conversation], bool],
    deleted: Collection[str] = (),
) -> DayAccount:
    """Each conversation starting inside `window` (the day) accounted for.

    `archived` maps the Genesys ids archived with a start in the day to whether their media is
    complete; `deleted` holds the ids retention deleted (with a start in the day); `buffered`
    holds the ids waiting in the retry buffer; `cursor` is how far the
    import has got; `recorded` applies the recording rules to one conversation (it is called
    only for conversations that are neither archived, buffered nor beyond the cursor).
    """
    inside = {
        c.conversation_id: c
        for c in conversations
        if window.start <= c.conversation_start < window.end
    }
    ordered = sorted(inside.values(), key=lambda c: (c.conversation_start, c.conversation_id))
    entries = tuple(
        Accounted(
            conversation_id=c.conversation_id,
            start=c.conversation_start.astimezone(dt.UTC),
            verdict=_verdict(c, archived, deleted, buffered, cursor, recorded),
        )
        for c in ordered
    )
    extra = tuple(sorted(set(archived) - set(inside)))
    return DayAccount(day=day, entries=entries, archive_only=extra)


def _verdict(  # noqa: PLR0917 (one argument per source of the accounting)
    conversation: Conversation,
    archived: Mapping[str, bool],
    deleted: Collection[str],
    buffered: Collection[str],
    cursor: dt.datetime,
    recorded: Callable[[Conversation], bool],
) -> Verdict:
    if archived.get(conversation.conversation_id, False):
        return Verdict.ARCHIVED
    if conversation.conversation_id in deleted:
        return Verdict.DELETED_BY_RETENTION
    if conversation.conversation_id in buffered:
        return Verdict.RETRY_BUFFERED
    if conversation.conversation_start >= cursor:
        return Verdict.NOT_REACHED
    if not recorded(conversation):
        return Verdict.SKIPPED_BY_RULES
    return Verdict.MISSING


__all__ = ["FINAL", "Accounted", "DayAccount", "Verdict", "account", "day_window", "due_day"]
