"""The audit log: who did what, when (configuration changes, playbacks, downloads).

Entries are written in the same transaction as the change they describe, so a change without
its entry cannot be committed. Details never hold secrets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callarchive.archive._context import Context
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import AuditRow


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    at: dt.datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    id: int | None = None


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

    async def list(self, *, limit: int = 100) -> list[AuditEntry]:
        """The newest entries first."""
        async with translate_errors(), self._context.sessions() as session:
            rows = await session.scalars(
                select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
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


__all__ = ["AuditEntry", "AuditLog", "write_entry"]
