"""Scheduled runs: a due run of a policy and import source is claimed once, by one node.

The unique key (policy, import source, due time) is the guard: whichever node inserts the row
starts the run; every other node's insert fails and it leaves the run alone. This holds across
restarts and across any number of nodes sharing the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from callarchive.archive._context import Context
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import ScheduledRunRow


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ScheduledRun:
    """A claimed due run."""

    policy_id: int
    import_source_id: int
    due_at: dt.datetime
    server: str
    claimed_at: dt.datetime


class ScheduledRuns:
    """Claim due runs; list the claims."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def claim(
        self, policy_id: int, import_source_id: int, due_at: dt.datetime, *, server: str
    ) -> bool:
        """True when this call claimed the run due at `due_at`; False when it was claimed."""
        row = ScheduledRunRow(
            policy_id=policy_id,
            import_source_id=import_source_id,
            due_at=due_at,
            server=server,
            claimed_at=self._context.now(),
        )
        async with translate_errors():
            try:
                async with self._context.sessions.begin() as session:
                    session.add(row)
            except IntegrityError:
                return False
        return True

    async def list(self, *, policy_id: int | None = None, limit: int = 100) -> list[ScheduledRun]:
        """The newest claims first."""
        async with translate_errors(), self._context.sessions() as session:
            query = select(ScheduledRunRow).order_by(
                ScheduledRunRow.due_at.desc(), ScheduledRunRow.id.desc()
            )
            if policy_id is not None:
                query = query.where(ScheduledRunRow.policy_id == policy_id)
            return [
                ScheduledRun(
                    policy_id=r.policy_id,
                    import_source_id=r.import_source_id,
                    due_at=r.due_at,
                    server=r.server,
                    claimed_at=r.claimed_at,
                )
                for r in await session.scalars(query.limit(limit))
            ]

    async def prune(self, before: dt.datetime) -> None:
        """Forget claims of runs due before `before` (they can no longer be due again)."""
        async with translate_errors(), self._context.sessions.begin() as session:
            await session.execute(delete(ScheduledRunRow).where(ScheduledRunRow.due_at < before))


__all__ = ["ScheduledRun", "ScheduledRuns"]
