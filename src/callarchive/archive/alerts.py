"""Stored alerts: kind, title, severity, state, message, details and what they concern.

The alerts package decides what to raise and delivers it (UI, e-mail, syslog, webhook); this
module only keeps them. Kinds, severities and states are stored as their text values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, func, select, update

from callarchive.archive._context import Context
from callarchive.archive.audit import write_entry
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


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AlertFilter:
    """Which alerts to list: each criterion given must match (severities: any of them)."""

    kind: str | None = None
    severities: tuple[str, ...] = ()
    state: str | None = None
    policy_id: int | None = None
    import_source_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions of this filter."""
        found: list[ColumnElement[bool]] = []
        if self.kind is not None:
            found.append(AlertRow.kind == self.kind)
        if self.severities:
            found.append(AlertRow.severity.in_(self.severities))
        if self.state is not None:
            found.append(AlertRow.state == self.state)
        if self.policy_id is not None:
            found.append(AlertRow.policy_id == self.policy_id)
        if self.import_source_id is not None:
            found.append(AlertRow.import_source_id == self.import_source_id)
        return found


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

    async def set_state(self, alert_id: int, state: str, *, actor: str | None = None) -> bool:
        """Acknowledge or clear an alert; False when there is no such alert.

        With an `actor` (a person, in the web UI) the change is written to the audit log.
        """
        now = self._context.now()
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await session.get(AlertRow, alert_id)
            if row is None:
                return False
            previous = row.state
            await session.execute(
                update(AlertRow).where(AlertRow.id == alert_id).values(state=state, updated_at=now)
            )
            if actor is not None:
                write_entry(
                    session,
                    at=now,
                    actor=actor,
                    action=f"alert_{state.lower()}",
                    target=f"alert:{alert_id}",
                    details={"title": row.title, "from": previous, "to": state},
                )
            return True

    async def get(self, alert_id: int) -> AlertRecord | None:
        """One alert, or None when there is no such alert."""
        async with translate_errors(), self._context.sessions() as session:
            row = await session.get(AlertRow, alert_id)
            return None if row is None else _to_alert(row)

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

    async def count(self, where: AlertFilter | None = None) -> int:
        """How many alerts match `where` (all of them when None)."""
        async with translate_errors(), self._context.sessions() as session:
            query = select(func.count()).select_from(AlertRow)
            found = await session.scalar(query.where(*(where or AlertFilter()).conditions()))
            return int(found or 0)

    # Defined last: annotations after it in the class body would take `list` for this method.
    async def list(
        self,
        where: AlertFilter | None = None,
        *,
        state: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AlertRecord]:
        """The newest alerts first, those matching `where` (or in one `state`) when given."""
        if state is not None:
            where = dataclasses.replace(where or AlertFilter(), state=state)
        async with translate_errors(), self._context.sessions() as session:
            query = (
                select(AlertRow)
                .where(*(where or AlertFilter()).conditions())
                .order_by(AlertRow.raised_at.desc(), AlertRow.id.desc())
            )
            rows = await session.scalars(query.offset(offset).limit(limit))
            return [_to_alert(row) for row in rows]


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


__all__ = ["AlertFilter", "AlertRecord", "Alerts"]
