"""Legal holds: named sets of conversations that retention never deletes while the hold is active.

Administrators and compliance officers create a hold with a reason and put conversations under
it, one by one or every conversation a search finds. Releasing a hold takes two people (four
eyes): one requests the release, a different one approves it; the database refuses an approval
by the requester too (`ck_legal_hold_releases_four_eyes`). Every change is written to the audit
log in the same transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callarchive.archive._context import Context, upsert_insert
from callarchive.archive.audit import write_entry
from callarchive.archive.conversations import ConversationQuery
from callarchive.archive.conversations import _filtered as filtered
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import (
    ConversationRow,
    HoldReleaseRow,
    LegalHoldConversationRow,
    LegalHoldRow,
)
from callarchive.errors import ConfigurationError

MAX_REASON = 2000


class HoldState(StrEnum):
    """Whether a hold protects its conversations."""

    ACTIVE = "active"  # its conversations are never deleted by retention
    RELEASED = "released"  # released with a second person's approval; protects nothing


class FourEyesError(ConfigurationError):
    """The person who requested a release tried to approve it: a second person must."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ReleaseRequest:
    """A request to release a hold; approved once a different person approves it."""

    requested_by: str
    requested_at: dt.datetime
    approved_by: str | None = None
    approved_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LegalHold:
    """A named legal hold and how many conversations it holds."""

    id: int
    name: str
    reason: str
    state: HoldState
    created_by: str
    created_at: dt.datetime
    released_at: dt.datetime | None
    conversations: int
    release: ReleaseRequest | None  # the newest release request, if any


class Holds:
    """Create legal holds, put conversations under them, request and approve their release."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def create(
        self,
        name: str,
        *,
        reason: str,
        actor: str,
        conversation_ids: Sequence[int] = (),
        matching: ConversationQuery | None = None,
    ) -> LegalHold:
        """A new active hold over `conversation_ids` and every conversation `matching` finds."""
        name = _name(name)
        reason = _reason(reason)
        async with translate_errors(), self._context.sessions.begin() as session:
            if await _row(session, name) is not None:
                raise ConfigurationError(
                    f"a legal hold named {name!r} exists; expected a new name", field="name"
                )
            now = self._context.now()
            row = LegalHoldRow(
                name=name, reason=reason, state=HoldState.ACTIVE, created_by=actor, created_at=now
            )
            session.add(row)
            await session.flush()
            write_entry(
                session,
                at=now,
                actor=actor,
                action="legal_hold_created",
                target=f"legal_hold:{name}",
                details={"reason": reason},
            )
            await _add(session, self._context, row, conversation_ids, matching, actor=actor)
            return await _to_hold(session, row)

    async def add(
        self,
        name: str,
        *,
        actor: str,
        conversation_ids: Sequence[int] = (),
        matching: ConversationQuery | None = None,
    ) -> int:
        """Put more conversations under the active hold `name`; how many were new to it."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _existing(session, name)
            if row.state != HoldState.ACTIVE:
                raise ConfigurationError(
                    f"the legal hold {row.name!r} is released; expected an active hold",
                    field="name",
                )
            return await _add(session, self._context, row, conversation_ids, matching, actor=actor)

    async def request_release(self, name: str, *, actor: str) -> LegalHold:
        """Ask for the active hold `name` to be released; a different person must approve."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _existing(session, name)
            if row.state != HoldState.ACTIVE:
                raise ConfigurationError(f"the legal hold {row.name!r} is released", field="name")
            if await _pending(session, row.id) is not None:
                raise ConfigurationError(
                    f"the release of {row.name!r} is already requested; expected its approval",
                    field="name",
                )
            now = self._context.now()
            session.add(HoldReleaseRow(hold_id=row.id, requested_by=actor, requested_at=now))
            write_entry(
                session,
                at=now,
                actor=actor,
                action="legal_hold_release_requested",
                target=f"legal_hold:{row.name}",
            )
            await session.flush()
            return await _to_hold(session, row)

    async def approve_release(self, name: str, *, actor: str) -> LegalHold:
        """Approve the pending release of `name`: the hold is released. `FourEyesError` when
        `actor` requested it."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _existing(session, name)
            pending = await _pending(session, row.id)
            if pending is None:
                raise ConfigurationError(
                    f"nobody requested the release of {row.name!r}; expected a release request "
                    "first",
                    field="name",
                )
            if pending.requested_by == actor:
                raise FourEyesError(
                    f"{actor} requested the release of {row.name!r} and cannot also approve it; "
                    "expected a second person's approval (four eyes)",
                    field="approved_by",
                )
            now = self._context.now()
            pending.approved_by = actor
            pending.approved_at = now
            row.state = HoldState.RELEASED
            row.released_at = now
            write_entry(
                session,
                at=now,
                actor=actor,
                action="legal_hold_released",
                target=f"legal_hold:{row.name}",
                details={"requested_by": pending.requested_by},
            )
            await session.flush()
            return await _to_hold(session, row)

    async def get(self, name: str) -> LegalHold:
        """The hold called `name`; `ConfigurationError` when there is none."""
        async with translate_errors(), self._context.sessions() as session:
            return await _to_hold(session, await _existing(session, name))

    async def get_by_id(self, hold_id: int) -> LegalHold | None:
        """The hold with this id, if any."""
        async with translate_errors(), self._context.sessions() as session:
            row = await session.get(LegalHoldRow, hold_id)
            return None if row is None else await _to_hold(session, row)

    async def conversation_ids(self, name: str) -> list[int]:
        """The archive ids of the conversations under the hold `name`, ascending."""
        async with translate_errors(), self._context.sessions() as session:
            row = await _existing(session, name)
            found = await session.scalars(
                select(LegalHoldConversationRow.conversation_id)
                .where(LegalHoldConversationRow.hold_id == row.id)
                .order_by(LegalHoldConversationRow.conversation_id)
            )
            return list(found)

    async def held(self, conversation_ids: Sequence[int]) -> set[int]:
        """Which of `conversation_ids` are under an active hold."""
        async with translate_errors(), self._context.sessions() as session:
            return await held_among(session, conversation_ids)

    async def list(self) -> list[LegalHold]:
        """Every hold, active ones first, then by name."""
        async with translate_errors(), self._context.sessions() as session:
            rows = await session.scalars(
                select(LegalHoldRow).order_by(LegalHoldRow.state, LegalHoldRow.name)
            )
            return [await _to_hold(session, row) for row in rows]


async def held_among(session: AsyncSession, conversation_ids: Sequence[int]) -> set[int]:
    """Which of `conversation_ids` are under an active hold (inside the caller's transaction)."""
    if not conversation_ids:
        return set()
    found = await session.scalars(
        select(LegalHoldConversationRow.conversation_id)
        .join(LegalHoldRow, LegalHoldRow.id == LegalHoldConversationRow.hold_id)
        .where(LegalHoldRow.state == HoldState.ACTIVE)
        .where(LegalHoldConversationRow.conversation_id.in_(list(conversation_ids)))
    )
    return set(found)


async def _add(
    session: AsyncSession,
    context: Context,
    row: LegalHoldRow,
    conversation_ids: Sequence[int],
    matching: ConversationQuery | None,
    *,
    actor: str,
) -> int:
    wanted = set(conversation_ids)
    if wanted:
        known = set(
            await session.scalars(
                select(ConversationRow.id).where(ConversationRow.id.in_(list(wanted)))
            )
        )
        if unknown := sorted(wanted - known):
            raise ConfigurationError(
                f"no archived conversation has id {unknown[0]}; expected archive ids "
                "(see the search)",
                field="conversation_ids",
            )
    if matching is not None:
        query = dataclasses.replace(matching, before=None)
        wanted |= set(await session.scalars(filtered(select(ConversationRow.id), query)))
    before = await _count(session, row.id)
    if wanted:
        now = context.now()
        insert_ = upsert_insert(session)
        await session.execute(
            insert_(LegalHoldConversationRow).on_conflict_do_nothing(),
            [
                {"hold_id": row.id, "conversation_id": c, "added_by": actor, "added_at": now}
                for c in sorted(wanted)
            ],
        )
    added = await _count(session, row.id) - before
    write_entry(
        session,
        at=context.now(),
        actor=actor,
        action="legal_hold_conversations_added",
        target=f"legal_hold:{row.name}",
        details={"added": added, "conversation_ids": sorted(wanted)[:1000]},
    )
    return added


async def _count(session: AsyncSession, hold_id: int) -> int:
    found = await session.scalar(
        select(func.count()).where(LegalHoldConversationRow.hold_id == hold_id)
    )
    return int(found or 0)


async def _pending(session: AsyncSession, hold_id: int) -> HoldReleaseRow | None:
    row: HoldReleaseRow | None = await session.scalar(
        select(HoldReleaseRow)
        .where(HoldReleaseRow.hold_id == hold_id, HoldReleaseRow.approved_by.is_(None))
        .order_by(HoldReleaseRow.id.desc())
        .limit(1)
    )
    return row


async def _to_hold(session: AsyncSession, row: LegalHoldRow) -> LegalHold:
    newest = await session.scalar(
        select(HoldReleaseRow)
        .where(HoldReleaseRow.hold_id == row.id)
        .order_by(HoldReleaseRow.id.desc())
        .limit(1)
    )
    release = None
    if newest is not None:
        release = ReleaseRequest(
            requested_by=newest.requested_by,
            requested_at=newest.requested_at,
            approved_by=newest.approved_by,
            approved_at=newest.approved_at,
        )
    return LegalHold(
        id=row.id,
        name=row.name,
        reason=row.reason,
        state=HoldState(row.state),
        created_by=row.created_by,
        created_at=row.created_at,
        released_at=row.released_at,
        conversations=await _count(session, row.id),
        release=release,
    )


def _name(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise ConfigurationError(
            "expected a name for the hold: one line of at most 200 characters", field="name"
        )
    return name


def _reason(raw: str) -> str:
    reason = raw.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ConfigurationError(
            f"expected why the conversations are held (at most {MAX_REASON} characters), e.g. "
            "a case or matter number",
            field="reason",
        )
    return reason


async def _row(session: AsyncSession, name: str) -> LegalHoldRow | None:
    row: LegalHoldRow | None = await session.scalar(
        select(LegalHoldRow).where(LegalHoldRow.name == name.strip())
    )
    return row


async def _existing(session: AsyncSession, name: str) -> LegalHoldRow:
    row = await _row(session, name)
    if row is None:
        raise ConfigurationError(
            f"there is no legal hold named {name.strip()!r} (see `callarchive hold list`)",
            field="name",
        )
    return row


__all__ = [
    "FourEyesError",
    "HoldState",
    "Holds",
    "LegalHold",
    "ReleaseRequest",
    "held_among",
]
