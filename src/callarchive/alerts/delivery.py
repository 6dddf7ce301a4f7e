"""Alert delivery: alerts stored in the archive go out to the configured channels.

Every alert is first stored (the UI's list, states Active, Acknowledged, Cleared); then a node's
`AlertDelivery` loop takes the undelivered ones, claims each (so one node of many sends it),
holds back repeats of identical alerts (`Grouper`), and sends each alert at least
`min_severity` to every channel (e-mail, syslog, webhook). A channel that fails is logged and
counted; the others still get the alert.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Callable, Hashable, Sequence

import structlog

from callarchive.alerts.alerter import Severity
from callarchive.alerts.grouping import Grouper
from callarchive.alerts.notice import Channel, DeliveryError, Notice, at_least
from callarchive.archive import AlertRecord, Archive
from callarchive.clock import Clock, sleep_unless
from callarchive.errors import CallarchiveError, ConfigurationError

log = structlog.get_logger("callarchive.alerts")

POLL_S = 5.0
BATCH = 100
Sent = Callable[[str, str], None]
"""Told (channel, outcome) after each attempt: `sent` or `failed` (the metrics)."""


class AlertDelivery:
    """Sends stored alerts to channels, once across nodes, grouping repeats."""

    def __init__(
        self,
        *,
        archive: Archive,
        channels: Sequence[Channel],
        clock: Clock,
        min_severity: Severity = Severity.WARNING,
        group_period: dt.timedelta = dt.timedelta(hours=1),
        on_sent: Sent | None = None,
    ) -> None:
        self._archive = archive
        self._channels = list(channels)
        self._clock = clock
        self._min = min_severity
        self._grouper = Grouper(group_period)
        self._on_sent = on_sent
        self._latest: dict[Hashable, Notice] = {}
        self._names: dict[tuple[str, int], str | None] = {}

    @property
    def channels(self) -> tuple[Channel, ...]:
        """Where alerts go."""
        return tuple(self._channels)

    async def deliver_pending(self) -> int:
        """Send what is waiting, and the counts of held repeats whose period is over;
        how many notices went out."""
        sent = 0
        async for record in self._undelivered():
            if record.id is None or not await self._archive.alerts.claim_delivery(record.id):
                continue
            severity = Severity(record.severity)
            if not self._channels or not at_least(severity, self._min):
                continue
            key = (record.kind, record.policy_id, record.import_source_id, record.message)
            held = self._grouper.admit(key, self._clock.now())
            notice = await self._notice(record, severity, held or 0)
            self._latest[key] = notice
            if held is None:
                log.debug("alert_grouped", kind=record.kind, alert_id=record.id)
                continue
            await self._send(notice)
            sent += 1
        for group, held in self._grouper.due(self._clock.now()):
            latest = self._latest.pop(group)
            await self._send(
                dataclasses.replace(
                    latest, repeated=held, summary=True, raised_at=self._clock.now()
                )
            )
            sent += 1
        for stale in [key for key in self._latest if key not in self._grouper]:
            del self._latest[stale]
        return sent

    async def _undelivered(self) -> AsyncIterator[AlertRecord]:
        """Every undelivered alert, in batches (each batch is claimed before the next read)."""
        while batch := await self._archive.alerts.undelivered(limit=BATCH):
            for record in batch:
                yield record

    async def run(self, stop: asyncio.Event, *, every_s: float = POLL_S) -> None:
        """Deliver every `every_s` seconds until `stop` (then once more)."""
        while True:
            try:
                await self.deliver_pending()
            except CallarchiveError as error:
                log.warning("alert_delivery_failed", error=str(error))
            if stop.is_set():
                return
            await sleep_unless(self._clock, every_s, stop)

    async def _send(self, notice: Notice) -> None:
        for channel in self._channels:
            try:
                await channel.send(notice)
            except DeliveryError as error:
                log.warning("alert_not_delivered", channel=channel.name, error=str(error))
                outcome = "failed"
            else:
                log.info("alert_delivered", channel=channel.name, kind=notice.kind)
                outcome = "sent"
            if self._on_sent is not None:
                self._on_sent(channel.name, outcome)

    async def _notice(self, record: AlertRecord, severity: Severity, held: int) -> Notice:
        return Notice(
            kind=record.kind,
            title=record.title,
            severity=severity,
            state=record.state,
            message=record.message,
            raised_at=record.raised_at or self._clock.now(),
            alert_id=record.id,
            policy=await self._name("policy", record.policy_id),
            import_source=await self._name("import_source", record.import_source_id),
            repeated=held,
        )

    async def _name(self, what: str, item_id: int | None) -> str | None:
        if item_id is None:
            return None
        if (what, item_id) not in self._names:
            try:
                if what == "policy":
                    name: str | None = (await self._archive.policies.get_by_id(item_id)).name
                else:
                    name = (await self._archive.import_sources.get_by_id(item_id)).name
            except ConfigurationError:
                name = None
            self._names[(what, item_id)] = name
        return self._names[(what, item_id)]


__all__ = ["POLL_S", "AlertDelivery", "Sent"]
