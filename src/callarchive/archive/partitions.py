"""Partitions of archived conversations: the labels that grant access (DESIGN.md section 6).

A conversation's partitions come from a participant attribute that only the async analytics
details jobs return. A conversation imported near real time is archived without them, and the
partition backfill adds them later; adding is idempotent (a partition is linked to a
conversation at most once), so a backfill that is cut short can simply be done again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select

from callarchive.archive._context import Context, upsert_insert
from callarchive.archive.database import translate_errors
from callarchive.archive.people import partition_ids_for
from callarchive.archive.schema import ConversationRow, conversation_partitions, user_partitions


class Partitions:
    """Who needs partitions, and linking them to conversations already archived."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def in_use(self) -> bool:
        """True when some user holds a partition (otherwise partitions grant nothing)."""
        async with translate_errors(), self._context.sessions() as session:
            return bool(await session.scalar(select(user_partitions.select().exists())))

    async def add(self, import_source_id: int, found: Mapping[str, Sequence[str]]) -> int:
        """Link each archived conversation of `found` (Genesys id → partition names) to its
        partitions; conversations not archived from this source are left out. Returns the
        number of links added (0 when every one was there already)."""
        wanted = {genesys_id: names for genesys_id, names in found.items() if names}
        if not wanted:
            return 0
        async with translate_errors(), self._context.sessions.begin() as session:
            archived = dict(
                (
                    await session.execute(
                        select(ConversationRow.genesys_conversation_id, ConversationRow.id).where(
                            ConversationRow.import_source_id == import_source_id,
                            ConversationRow.genesys_conversation_id.in_(list(wanted)),
                        )
                    )
                ).all()
            )
            if not archived:
                return 0
            names = sorted({name for g in archived for name in wanted[g]})
            ids = dict(zip(names, await partition_ids_for(session, names), strict=True))
            links = {(archived[g], ids[name]) for g in archived for name in wanted[g]}
            rows = await session.execute(
                select(
                    conversation_partitions.c.conversation_id,
                    conversation_partitions.c.partition_id,
                ).where(conversation_partitions.c.conversation_id.in_(archived.values()))
            )
            present = {(c, p) for c, p in rows}
            missing = sorted(links - present)
            if missing:
                insert_ = upsert_insert(session)
                await session.execute(
                    insert_(conversation_partitions).on_conflict_do_nothing(),
                    [{"conversation_id": c, "partition_id": p} for c, p in missing],
                )
            return len(missing)


__all__ = ["Partitions"]
