"""Late seals: sealing, after the fact, the conversations archived before seals existed.

An installation that archived conversations before revision v0007 has conversations without a
seal; `verify` notes them as "archived before sealing began". `LateSeals.seal` seals them in
batches of conversation ids, one transaction per batch (the seals and an audit entry
`conversations_sealed_late` naming the batch's first and last id). Each seal is appended to the
chain of the day it is made with origin `late` (`SealOrigin.LATE`), which its signature covers,
so an auditor tells an import-time seal from a late one and sees when it was made.

Safe to interrupt and to run twice, even at once: a batch takes the lock of today's chain head
first and then seals only the conversations still without a seal. Only conversations archived
before the first import-time seal are sealed: a conversation archived since then should have
been sealed as it was archived, and sealing it now would hide a removed seal (`verify` reports
it as "not sealed"); those are counted as `refused`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from callarchive.archive._context import Context
from callarchive.archive.audit import write_entry
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import ConversationRow, SealRow
from callarchive.archive.seals import (
    SealOrigin,
    locked_head,
    seal_conversation,
    seal_day,
    sealing_began,
    stored_document,
)

DEFAULT_BATCH = 500
_Row = TypeVar("_Row")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Unsealed:
    """The conversations without a seal, before a late sealing."""

    eligible: int  # archived before seals existed: `LateSeals.seal` seals them
    refused: int  # archived since sealing began: left for `verify` to report


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LateSealing:
    """What one `LateSeals.seal` did."""

    sealed: int
    batches: int


class LateSeals:
    """Finds and seals the conversations archived before seals existed."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def unsealed(self) -> Unsealed:
        """How many conversations have no seal, and how many of them may be sealed late."""
        async with translate_errors(), self._context.sessions() as session:
            began = await sealing_began(session)
            total = await session.scalar(_without_seal(select(func.count())))
            eligible = await session.scalar(_eligible(select(func.count()), began))
        return Unsealed(eligible=int(eligible or 0), refused=int(total or 0) - int(eligible or 0))

    async def seal(
        self,
        *,
        actor: str,
        batch_size: int = DEFAULT_BATCH,
        progress: Callable[[int], None] | None = None,
    ) -> LateSealing:
        """Seal every eligible conversation, `batch_size` per transaction; `progress` is told
        how many each batch sealed."""
        sealed = batches = 0
        after = 0
        while (done := await self._seal_batch(after, batch_size, actor)) is not None:
            count, after = done
            sealed, batches = sealed + count, batches + 1
            if progress is not None:
                progress(count)
        return LateSealing(sealed=sealed, batches=batches)

    async def _seal_batch(self, after: int, size: int, actor: str) -> tuple[int, int] | None:
        """Seal the next batch of ids above `after`: (how many sealed, the last id), or None
        when nothing is left."""
        async with translate_errors(), self._context.sessions.begin() as session:
            began = await sealing_began(session)
            query = _eligible(select(ConversationRow.id), began)
            ids = list(
                await session.scalars(
                    query.where(ConversationRow.id > after).order_by(ConversationRow.id).limit(size)
                )
            )
            if not ids:
                return None
            # Under the chain's lock, a concurrent run's seals are visible: skip them.
            await locked_head(session, seal_day(self._context.now()))
            still = set(await session.scalars(query.where(ConversationRow.id.in_(ids))))
            sealed = await self._seal_each(session, [i for i in ids if i in still], actor)
            return sealed, ids[-1]

    async def _seal_each(self, session: AsyncSession, ids: Sequence[int], actor: str) -> int:
        for conversation_id in ids:
            document = await stored_document(session, conversation_id)
            if document is not None:
                await seal_conversation(
                    session, self._context, conversation_id, document, origin=SealOrigin.LATE
                )
        if ids:
            write_entry(
                session,
                at=self._context.now(),
                actor=actor,
                action="conversations_sealed_late",
                target="seals",
                details={"conversations": len(ids), "first": ids[0], "last": ids[-1]},
            )
        return len(ids)


def _without_seal(query: Select[_Row]) -> Select[_Row]:
    return query.select_from(ConversationRow).where(
        ~exists().where(SealRow.conversation_id == ConversationRow.id)
    )


def _eligible(query: Select[_Row], began: dt.datetime | None) -> Select[_Row]:
    """Conversations without a seal, archived before the first import-time seal."""
    query = _without_seal(query)
    return query if began is None else query.where(ConversationRow.imported_at < began)


__all__ = ["DEFAULT_BATCH", "LateSealing", "LateSeals", "Unsealed"]
