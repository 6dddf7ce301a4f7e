"""Reconciliations: per policy, import source and day, every recorded conversation accounted for.

A reconciliation asks Genesys again for the recorded voice conversations of a past day and
says, for each, whether it is archived, deleted by retention since, skipped by the recording
rules, waiting in the retry buffer, not reached by the import yet, or missing. This repository
keeps one result per pair and day (a later reconciliation of the day replaces it), claims a day
for the node that reconciles it (the row's unique key, as for scheduled runs), and reads what
the archive holds of a day for the accounting.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from callarchive.archive._context import Context
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import ConversationRow, ReconciliationRow

_COUNTS = (
    "genesys_total",
    "archived",
    "skipped_by_rules",
    "retry_buffered",
    "not_reached",
    "missing",
    "archive_only",
    "deleted_by_retention",
)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Unaccounted:
    """A conversation a reconciliation could not find archived: its Genesys id and start."""

    conversation_id: str
    start: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DayReconciliation:
    """The result of reconciling one day of one policy and import source.

    `genesys_total` = archived + deleted_by_retention + skipped_by_rules + retry_buffered +
    not_reached + missing (deleted_by_retention: archived, then deleted past their retention);
    `archive_only` counts archived conversations of the day that Genesys no longer lists.
    `finished_at` is None while the day is being reconciled; `error` says why one failed.
    """

    policy_id: int
    import_source_id: int
    day: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    server: str | None = None
    genesys_total: int = 0
    archived: int = 0
    skipped_by_rules: int = 0
    retry_buffered: int = 0
    not_reached: int = 0
    missing: int = 0
    archive_only: int = 0
    deleted_by_retention: int = 0
    missing_conversations: tuple[Unaccounted, ...] = ()
    retry_buffered_conversations: tuple[Unaccounted, ...] = ()
    error: str | None = None
    id: int | None = None

    @property
    def completeness(self) -> float | None:
        """The share of Genesys's conversations with a final outcome (archived, deleted by
        retention past their retention, or skipped by rules), 1.0 for a day without any; None
        while running or after an error."""
        if self.finished_at is None or self.error is not None:
            return None
        if self.genesys_total == 0:
            return 1.0
        final = self.archived + self.deleted_by_retention + self.skipped_by_rules
        return final / self.genesys_total

    @property
    def complete(self) -> bool:
        """True when every conversation of the day is archived, deleted by retention or
        skipped by rules."""
        return self.completeness == 1.0


class Reconciliations:
    """Store, claim and read day reconciliations; read what the archive holds of a day."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def claim(
        self,
        policy_id: int,
        import_source_id: int,
        day: dt.date,
        *,
        server: str,
        stale_after: dt.timedelta,
        again_after: dt.timedelta,
    ) -> bool:
        """True when this call claimed the day for `server`: it was never reconciled, its
        reconciliation started more than `stale_after` ago and never finished (a node died), or
        it finished incomplete more than `again_after` ago (worth a look again)."""
        now = self._context.now()
        row = ReconciliationRow(
            policy_id=policy_id,
            import_source_id=import_source_id,
            day=day,
            server=server,
            started_at=now,
            missing_conversations=[],
            retry_buffered_conversations=[],
            **dict.fromkeys(_COUNTS, 0),
        )
        async with translate_errors():
            try:
                async with self._context.sessions.begin() as session:
                    session.add(row)
            except IntegrityError:
                pass
            else:
                return True
            async with self._context.sessions.begin() as session:
                incomplete = or_(
                    ReconciliationRow.error.is_not(None),
                    ReconciliationRow.missing > 0,
                    ReconciliationRow.retry_buffered > 0,
                    ReconciliationRow.not_reached > 0,
                )
                taken = await session.execute(
                    update(ReconciliationRow)
                    .where(
                        ReconciliationRow.policy_id == policy_id,
                        ReconciliationRow.import_source_id == import_source_id,
                        ReconciliationRow.day == day,
                        or_(
                            and_(
                                ReconciliationRow.finished_at.is_(None),
                                ReconciliationRow.started_at < now - stale_after,
                            ),
                            and_(
                                ReconciliationRow.finished_at < now - again_after,
                                incomplete,
                            ),
                        ),
                    )
                    .values(server=server, started_at=now, finished_at=None)
                )
                return bool(getattr(taken, "rowcount", 0))

    async def save(self, result: DayReconciliation) -> int:
        """Store `result` as the day's reconciliation (replacing an earlier one); its id."""
        values: dict[str, Any] = {
            "server": result.server,
            "started_at": result.started_at,
            "finished_at": result.finished_at,
            "missing_conversations": _listed(result.missing_conversations),
            "retry_buffered_conversations": _listed(result.retry_buffered_conversations),
            "error": result.error,
            **{name: getattr(result, name) for name in _COUNTS},
        }
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await session.scalar(
                select(ReconciliationRow).where(
                    ReconciliationRow.policy_id == result.policy_id,
                    ReconciliationRow.import_source_id == result.import_source_id,
                    ReconciliationRow.day == result.day,
                )
            )
            if row is None:
                row = ReconciliationRow(
                    policy_id=result.policy_id,
                    import_source_id=result.import_source_id,
                    day=result.day,
                )
                session.add(row)
            for name, value in values.items():
                setattr(row, name, value)
            await session.flush()
            return row.id

    async def list(
        self,
        *,
        policy_id: int | None = None,
        import_source_id: int | None = None,
        day: dt.date | None = None,
        limit: int = 31,
    ) -> list[DayReconciliation]:
        """The newest days first (of one pair, or one day, when given)."""
        async with translate_errors(), self._context.sessions() as session:
            query = select(ReconciliationRow).order_by(
                ReconciliationRow.day.desc(), ReconciliationRow.id.desc()
            )
            if policy_id is not None:
                query = query.where(ReconciliationRow.policy_id == policy_id)
            if import_source_id is not None:
                query = query.where(ReconciliationRow.import_source_id == import_source_id)
            if day is not None:
                query = query.where(ReconciliationRow.day == day)
            return [_result(row) for row in await session.scalars(query.limit(limit))]

    async def archived(
        self, import_source_id: int, start: dt.datetime, end: dt.datetime
    ) -> dict[str, bool]:
        """The conversations of an import source archived with a start in [start, end): Genesys
        conversation id → whether its media is complete."""
        async with translate_errors(), self._context.sessions() as session:
            rows = await session.execute(
                select(ConversationRow.genesys_conversation_id, ConversationRow.media_complete)
                .where(ConversationRow.import_source_id == import_source_id)
                .where(ConversationRow.start_at >= start, ConversationRow.start_at < end)
            )
            return {str(genesys_id): bool(complete) for genesys_id, complete in rows}


def _listed(items: tuple[Unaccounted, ...]) -> list[dict[str, Any]]:
    return [
        {"conversation_id": i.conversation_id, "start": i.start.astimezone(dt.UTC).isoformat()}
        for i in items
    ]


def _unlisted(items: list[dict[str, Any]]) -> tuple[Unaccounted, ...]:
    return tuple(
        Unaccounted(
            conversation_id=str(i["conversation_id"]),
            start=dt.datetime.fromisoformat(str(i["start"])).astimezone(dt.UTC),
        )
        for i in items
    )


def _result(row: ReconciliationRow) -> DayReconciliation:
    return DayReconciliation(
        policy_id=row.policy_id,
        import_source_id=row.import_source_id,
        day=row.day,
        started_at=row.started_at,
        finished_at=row.finished_at,
        server=row.server,
        missing_conversations=_unlisted(row.missing_conversations),
        retry_buffered_conversations=_unlisted(row.retry_buffered_conversations),
        error=row.error,
        id=row.id,
        **{name: getattr(row, name) for name in _COUNTS},
    )


__all__ = ["DayReconciliation", "Reconciliations", "Unaccounted"]
