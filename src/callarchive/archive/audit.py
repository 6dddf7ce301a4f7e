"""The audit log: who did what, when (configuration changes, playbacks, downloads).

Entries are written in the same transaction as the change they describe, so a change without
its entry cannot be committed. Details never hold secrets. Entries are chained and signed as
they are flushed (`seals.link_audit_entries`), so a removed or edited entry shows in
`callarchive verify --audit`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, event, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from callarchive.archive._context import Context
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import AuditRow
from callarchive.archive.seals import link_audit_entries
from callarchive.secrets import SealKey


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    at: dt.datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    id: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AuditFilter:
    """Which entries to list: each criterion given must match; the time range is
    `since <= at < until`."""

    actor: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions of this filter."""
        found: list[ColumnElement[bool]] = []
        if self.actor is not None:
            found.append(AuditRow.actor == self.actor)
        if self.action is not None:
            found.append(AuditRow.action == self.action)
        if self.since is not None:
            found.append(AuditRow.at >= self.since)
        if self.until is not None:
            found.append(AuditRow.at < self.until)
        return found


def write_entry(
    session: AsyncSession,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the transaction of `session` (used by every repository that changes)."""
    session.add(AuditRow(at=at, actor=actor, action=action, target=target, details=details or {}))


@event.listens_for(Session, "before_flush")
def _chain_new_entries(session: Session, _context: object, _instances: object) -> None:
    """Link and sign the entries this flush inserts, in the order they were added."""
    key = session.info.get("seal_key")
    entries = [row for row in session.new if isinstance(row, AuditRow) and row.link is None]
    if entries and isinstance(key, SealKey):
        entries.sort(key=lambda row: inspect(row).insert_order or 0)
        link_audit_entries(session, entries, key)


class AuditLog:
    """Reads and appends the audit log."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def record(
        self, *, actor: str, action: str, target: str, details: dict[str, Any] | None = None
    ) -> None:
        """Append an entry now (a playback, a download, a login...)."""
        async with translate_errors(), self._context.sessions.begin() as session:
            write_entry(
                session,
                at=self._context.now(),
                actor=actor,
                action=action,
                target=target,
                details=details,
            )

    async def count(self, where: AuditFilter | None = None) -> int:
        """How many entries match `where` (all of them when None)."""
        async with translate_errors(), self._context.sessions() as session:
            query = select(func.count()).select_from(AuditRow)
            found = await session.scalar(query.where(*(where or AuditFilter()).conditions()))
            return int(found or 0)

    async def actions(self) -> list[str]:
        """Every action the log holds, sorted (for a filter's choices).

        A loose index scan: each step asks the action index for the least action after the
        previous one, so the cost grows with the number of actions, not of entries (a
        `SELECT DISTINCT` reads every entry of a log that records every playback)."""
        step = aliased(AuditRow)
        found = select(func.min(AuditRow.action).label("action")).cte("found", recursive=True)
        found = found.union_all(
            select(
                select(func.min(step.action)).where(step.action > found.c.action).scalar_subquery()
            ).where(found.c.action.is_not(None))
        )
        async with translate_errors(), self._context.sessions() as session:
            actions = await session.scalars(
                select(found.c.action).where(found.c.action.is_not(None)).order_by(found.c.action)
            )
            return list(actions)

    # Defined last: annotations after it in the class body would take `list` for this method.
    async def list(
        self, where: AuditFilter | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[AuditEntry]:
        """The newest entries first, those matching `where` when given."""
        async with translate_errors(), self._context.sessions() as session:
            rows = await session.scalars(
                select(AuditRow)
                .where(*(where or AuditFilter()).conditions())
                .order_by(AuditRow.at.desc(), AuditRow.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [
                AuditEntry(
                    at=row.at,
                    actor=row.actor,
                    action=row.action,
                    target=row.target,
                    details=row.details,
                    id=row.id,
                )
                for row in rows
            ]


__all__ = ["AuditEntry", "AuditFilter", "AuditLog", "write_entry"]
