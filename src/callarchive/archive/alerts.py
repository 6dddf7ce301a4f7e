"""Stored alerts: kind, title, severity, state, message, details and what they concern.

The alerts package decides what to raise and delivers it (UI, e-mail, syslog, webhook); this
module only keeps them. Kinds, severities and states are stored as their text values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select, update

from callarchive.archive._context import Context
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import AlertRow


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AlertRecord:
    """An alert as stored. `raised_at` is set by the archive when None."""

    kind: str
    title: str
    severity: str
    state: str
    message: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    policy_id: int | None = None
    import_source_id: int | None = None
    conversation_id: int | None = None
    raised_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    id: int | None = None


class Alerts:
    """Add alerts, change their state, list them."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def add(self, alert: AlertRecord) -> AlertRecord:
        """Store a new alert; the stored value (with id and times) is returned."""
        now = self._context.now()
        async with translate_errors(), self._context.sessions.begin() as session:
            row = AlertRow(
                kind=alert.kind,
                title=alert.title,
                severity=alert.severity,
                state=alert.state,
                message=alert.message,
                details=alert.details,
                policy_id=alert.policy_id,
                import_source_id=alert.import_source_id,
                conversation_id=alert.conversation_id,
                raised_at=alert.raised_at or now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            return _to_alert(row)

    async def set_state(self, alert_id: int, state: str) -> bool:
        """Acknowledge or clear an alert; False when there is no such alert."""
        async with translate_errors(), self._context.sessions.begin() as session:
            result = await session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(state=state, updated_at=self._context.now())
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    async def undelivered(self, *, limit: int = 100) -> list[AlertRecord]:
        """Alerts not yet handed to the delivery channels, oldest first."""
        async with translate_errors(), self._context.sessions() as session:
            query = (
                select(AlertRow)
                .where(AlertRow.delivered_at.is_(None))
                .order_by(AlertRow.id)
                .limit(limit)
            )
            return [_to_alert(row) for row in await session.scalars(query)]

    async def claim_delivery(self, alert_id: int) -> bool:
        """Mark the alert delivered; True for the one caller (of any node) that did so."""
        async with translate_errors(), self._context.sessions.begin() as session:
            result = await session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.delivered_at.is_(None))
                .values(delivered_at=self._context.now())
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    async def list(self, *, state: str | None = None, limit: int = 100) -> list[AlertRecord]:
        """The newest alerts first, optionally in one state."""
        async with translate_errors(), self._context.sessions() as session:
            query = select(AlertRow).order_by(AlertRow.raised_at.desc(), AlertRow.id.desc())
            if state is not None:
                query = query.where(AlertRow.state == state)
            return [_to_alert(row) for row in await session.scalars(query.limit(limit))]


def _to_alert(row: AlertRow) -> AlertRecord:
    return AlertRecord(
        kind=row.kind,
        title=row.title,
        severity=row.severity,
        state=row.state,
        message=row.message,
        details=row.details,
        policy_id=row.policy_id,
        import_source_id=row.import_source_id,
        conversation_id=row.conversation_id,
        raised_at=row.raised_at,
        updated_at=row.updated_at,
        id=row.id,
    )


__all__ = ["AlertRecord", "Alerts"]
