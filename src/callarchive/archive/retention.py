"""Retention in the archive: retention periods, the conversations they may take, deletions.

A conversation is kept for the retention days of its recorded user when the user has an
override, else of its policy; neither set means for ever. `candidates` lists conversations
that have a retention period and started long enough ago to possibly be past it, with their
periods and whether an active legal hold protects them, in (start, id) order for keyset paging;
the retention job decides (purely) which go. `delete` removes one conversation row (its
recordings and partition links go with it) after re-checking the hold in the same transaction,
and writes the `retention_deleted` audit entry with the Genesys id and the sha256 of every
recording; `deleted` reads those entries back (reconciliation counts what retention deleted as
kept for as long as it had to be, not missing). The job deletes the media objects first and the
row last, so a crash in between leaves a row whose objects are already gone, which the next run
finishes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callarchive.archive._context import Context, upsert_insert
from callarchive.archive.audit import write_entry
from callarchive.archive.database import translate_errors
from callarchive.archive.holds import held_among
from callarchive.archive.schema import (
    AuditRow,
    ConversationRow,
    PolicyRow,
    RecordingRow,
    RetentionRunRow,
    SealRow,
    UserRow,
)
from callarchive.configuration import parse_retention_days
from callarchive.errors import ConfigurationError

DELETED_ACTION = "retention_deleted"  # the audit entry of each deletion


def retention_expiry(
    start: dt.datetime, *, policy_days: int | None, user_days: int | None
) -> dt.datetime | None:
    """When a conversation that started at `start` is past its retention: the recorded user's
    override, else the policy's period, counted from the start; None: kept for ever."""
    days = user_days if user_days is not None else policy_days
    return None if days is None else start + dt.timedelta(days=days)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class StoredMedia:
    """A recording of a conversation as retention deletes it."""

    recording_id: str
    codec: str
    object_key: str
    sha256: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """A conversation with a retention period: when it started, its periods, whether held."""

    conversation_id: int
    genesys_id: str
    import_source_id: int
    start: dt.datetime
    policy_days: int | None
    user_days: int | None
    held: bool

    @property
    def retention_days(self) -> int | None:
        """The period that applies: the recorded user's override, else the policy's."""
        return self.user_days if self.user_days is not None else self.policy_days

    @property
    def expires_at(self) -> dt.datetime | None:
        """When the conversation is past its retention (None: kept for ever)."""
        return retention_expiry(self.start, policy_days=self.policy_days, user_days=self.user_days)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RetentionRun:
    """One day's retention job."""

    day: str
    server: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    deleted: int | None
    error: str | None


class Retention:
    """Retention periods, candidates, deletions and the daily runs."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def set_policy_days(self, name: str, days: int | None, *, actor: str) -> None:
        """Keep the conversations of policy `name` for `days` days (None: for ever)."""
        days = parse_retention_days(days)
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await session.scalar(select(PolicyRow).where(PolicyRow.name == name.strip()))
            if row is None:
                raise ConfigurationError(f"there is no policy named {name!r}", field="policy")
            row.retention_days = days
            row.updated_at = self._context.now()
            _audit_setting(session, self._context, actor, f"policy:{row.name}", days)

    async def set_user_days(self, login: str, days: int | None, *, actor: str) -> None:
        """Keep the conversations recorded for `login` for `days` days (None: the policy's)."""
        days = parse_retention_days(days)
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await session.scalar(select(UserRow).where(UserRow.login == login.strip()))
            if row is None:
                raise ConfigurationError(f"there is no user with login {login!r}", field="user")
            row.retention_days = days
            row.updated_at = self._context.now()
            _audit_setting(session, self._context, actor, f"user:{row.login}", days)

    async def candidates(
        self, now: dt.datetime, *, after: tuple[dt.datetime, int] | None = None, limit: int = 500
    ) -> list[Candidate]:
        """Conversations with a retention period that may be past it at `now`, in (start, id)
        order after `after`; at most `limit`."""
        async with translate_errors(), self._context.sessions() as session:
            shortest = await _shortest_period(session)
            if shortest is None:
                return []
            c, p, u = ConversationRow, PolicyRow, UserRow
            statement = (
                select(c.id, c.genesys_conversation_id, c.import_source_id, c.start_at)
                .add_columns(p.retention_days, u.retention_days)
                .outerjoin(p, p.id == c.policy_id)
                .outerjoin(u, u.id == c.recorded_user_id)
                .where(or_(p.retention_days.is_not(None), u.retention_days.is_not(None)))
                .where(c.start_at < now - dt.timedelta(days=shortest))
            )
            if after is not None:
                statement = statement.where(
                    or_(c.start_at > after[0], and_(c.start_at == after[0], c.id > after[1]))
                )
            rows = (await session.execute(statement.order_by(c.start_at, c.id).limit(limit))).all()
            held = await held_among(session, [row[0] for row in rows])
            return [
                Candidate(
                    conversation_id=row[0],
                    genesys_id=row[1],
                    import_source_id=row[2],
                    start=_utc(row[3]),
                    policy_days=row[4],
                    user_days=row[5],
                    held=row[0] in held,
                )
                for row in rows
            ]

    async def media(self, conversation_id: int) -> list[StoredMedia]:
        """The stored recordings of a conversation (empty when it is gone)."""
        async with translate_errors(), self._context.sessions() as session:
            rows = await session.scalars(
                select(RecordingRow)
                .where(RecordingRow.conversation_id == conversation_id)
                .order_by(RecordingRow.id)
            )
            return [
                StoredMedia(
                    recording_id=r.genesys_recording_id,
                    codec=r.codec,
                    object_key=r.object_key,
                    sha256=r.sha256,
                )
                for r in rows
            ]

    async def delete(
        self,
        candidate: Candidate,
        media: list[StoredMedia],
        *,
        actor: str,
        missing_objects: list[str],
    ) -> bool:
        """Delete the conversation row and audit it; False (nothing done) when a legal hold
        took it meanwhile or it is gone already."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await session.get(ConversationRow, candidate.conversation_id)
            if row is None or await held_among(session, [candidate.conversation_id]):
                return False
            await session.delete(row)
            # The seal stays, marked: verification reports a deletion, not tampering.
            await session.execute(
                update(SealRow)
                .where(SealRow.conversation_id == candidate.conversation_id)
                .values(deleted_at=self._context.now())
            )
            write_entry(
                session,
                at=self._context.now(),
                actor=actor,
                action=DELETED_ACTION,
                target=f"conversation:{candidate.conversation_id}",
                details=_deleted_details(candidate, media, missing_objects),
            )
            return True

    async def deleted(
        self, import_source_id: int, start: dt.datetime, end: dt.datetime
    ) -> set[str]:
        """The Genesys ids of the conversations of an import source with a start in [start,
        end) that retention deleted, from their `retention_deleted` audit entries (which
        outlive the rows; reconciliation accounts for them). Only entries written since
        `start` are read: a conversation is deleted after it started."""
        found: set[str] = set()
        async with translate_errors(), self._context.sessions() as session:
            rows: AsyncIterator[dict[str, Any]] = await session.stream_scalars(
                select(AuditRow.details)
                .where(AuditRow.action == DELETED_ACTION, AuditRow.at >= start)
                .order_by(AuditRow.id)
            )
            async for details in rows:
                if _deleted_in(details, import_source_id, start, end):
                    found.add(str(details["genesys_conversation_id"]))
        return found

    async def claim_day(self, day: str, *, server: str) -> bool:
        """Claim the retention job of `day` (YYYY-MM-DD) for `server`; False when another run
        (on any node) claimed it already."""
        async with translate_errors(), self._context.sessions.begin() as session:
            claimed = await session.scalar(
                upsert_insert(session)(RetentionRunRow)
                .values(day=day, server=server, started_at=self._context.now())
                .on_conflict_do_nothing()
                .returning(RetentionRunRow.id)
            )
            return claimed is not None

    async def finish_day(self, day: str, *, deleted: int, error: str | None = None) -> None:
        """Record how the retention job of `day` ended."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await session.scalar(select(RetentionRunRow).where(RetentionRunRow.day == day))
            if row is not None:
                row.finished_at = self._context.now()
                row.deleted = deleted
                row.error = error

    async def runs(self, *, limit: int = 30) -> list[RetentionRun]:
        """The newest daily runs first."""
        async with translate_errors(), self._context.sessions() as session:
            rows = await session.scalars(
                select(RetentionRunRow).order_by(RetentionRunRow.day.desc()).limit(limit)
            )
            return [
                RetentionRun(
                    day=r.day,
                    server=r.server,
                    started_at=r.started_at,
                    finished_at=r.finished_at,
                    deleted=r.deleted,
                    error=r.error,
                )
                for r in rows
            ]


async def _shortest_period(session: AsyncSession) -> int | None:
    policies = await session.scalar(select(func.min(PolicyRow.retention_days)))
    users = await session.scalar(select(func.min(UserRow.retention_days)))
    periods = [int(days) for days in (policies, users) if days is not None]
    return min(periods) if periods else None


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _deleted_in(
    details: dict[str, Any], import_source_id: int, start: dt.datetime, end: dt.datetime
) -> bool:
    try:
        started = _utc(dt.datetime.fromisoformat(str(details["start"])))
        source = int(details["import_source_id"])
    except (KeyError, TypeError, ValueError):  # not written by `delete`: not ours to count
        return False
    return (
        source == import_source_id
        and start <= started < end
        and "genesys_conversation_id" in details
    )


def _deleted_details(
    candidate: Candidate, media: list[StoredMedia], missing_objects: list[str]
) -> dict[str, Any]:
    return {
        "genesys_conversation_id": candidate.genesys_id,
        "import_source_id": candidate.import_source_id,
        "start": candidate.start.isoformat(),
        "retention_days": candidate.retention_days,
        "retention_of": "user" if candidate.user_days is not None else "policy",
        "recordings": [
            {
                "recording_id": m.recording_id,
                "codec": m.codec,
                "sha256": m.sha256,
                "object_key": m.object_key,
            }
            for m in media
        ],
        "objects_already_gone": missing_objects,
    }


def _audit_setting(
    session: AsyncSession, context: Context, actor: str, target: str, days: int | None
) -> None:
    write_entry(
        session,
        at=context.now(),
        actor=actor,
        action="retention_changed",
        target=target,
        details={"retention_days": days},
    )


__all__ = ["Candidate", "Retention", "RetentionRun", "StoredMedia", "retention_expiry"]
