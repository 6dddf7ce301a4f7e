"""Raising alerts: what happened, how bad it is, and where it is recorded."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol

import structlog

from callarchive.archive import AlertRecord, Archive

log = structlog.get_logger("callarchive.alerts")


class AlertKind(StrEnum):
    """The alerts the Genesys import source raises (the seed, section 4 and 5)."""

    BATCH_RETRIEVAL_FAILED = "batch_retrieval_failed"  # could not list the next batch
    IMPORT_FAILED = "import_failed"  # a conversation's metadata or media failed
    TIMEZONE_UNAVAILABLE = "timezone_unavailable"  # the Recording Timezone cannot be resolved
    RETRY_BUFFERED = "retry_buffered"  # media unavailable: the CDR waits in the retry buffer
    DELETE_FAILED = "delete_failed"  # Genesys refused to delete a recording
    BATCH_NOTIFICATION = "batch_notification"  # end of every run: what was imported
    CURSOR_INVALID = "cursor_invalid"  # the cursor file cannot be read; the run stops
    RETRY_FILE_REJECTED = "retry_file_rejected"  # a retry buffer file could not be read
    # A recording was archived but cannot be decoded: its audio analysis fields stay empty.
    MEDIA_UNDECODABLE = "media_undecodable"
    # Reconciliation found recorded conversations of a past day neither archived, skipped by
    # rules nor in the retry buffer.
    CONVERSATIONS_MISSING = "conversations_missing"
    # The system clock is ahead of Genesys Cloud's: windows end at Genesys's time instead.
    CLOCK_AHEAD = "clock_ahead"
    # A server stopped (no heartbeat) while it ran an import; another server takes it over.
    IMPORT_TAKEN_OVER = "import_taken_over"

    @property
    def heading(self) -> str:
        return _TITLES[self]

    @property
    def severity(self) -> Severity:
        return _SEVERITIES[self]


class Severity(StrEnum):
    """How bad an alert is."""

    NOTIFICATION = "Notification"  # for information
    WARNING = "Warning"  # may need attention
    ERROR = "Error"  # something failed and needs attention
    CRITICAL = "Critical"  # imports are stopped
    FATAL = "Fatal"  # the service cannot run


class AlertState(StrEnum):
    """Where an alert is in its life."""

    ACTIVE = "Active"  # raised, nobody has looked yet
    ACKNOWLEDGED = "Acknowledged"  # someone is on it
    CLEARED = "Cleared"  # resolved


_TITLES = {
    AlertKind.BATCH_RETRIEVAL_FAILED: "Failed to retrieve next batch",
    AlertKind.IMPORT_FAILED: "Conversation failed to import",
    AlertKind.TIMEZONE_UNAVAILABLE: "Could not obtain timezone offsets",
    AlertKind.RETRY_BUFFERED: "CDR placed in retry buffer",
    AlertKind.DELETE_FAILED: "Conversation failed to delete from Genesys Cloud",
    AlertKind.BATCH_NOTIFICATION: "Genesys Cloud import batch completed",
    AlertKind.CURSOR_INVALID: "Failed to retrieve next batch",
    AlertKind.RETRY_FILE_REJECTED: "Conversation failed to import",
    AlertKind.MEDIA_UNDECODABLE: "Conversation failed to import",
    AlertKind.CONVERSATIONS_MISSING: "Conversations missing from the archive",
    AlertKind.CLOCK_AHEAD: "System clock ahead of Genesys Cloud",
    AlertKind.IMPORT_TAKEN_OVER: "Import taken over from a stopped server",
}
_SEVERITIES = {
    AlertKind.BATCH_RETRIEVAL_FAILED: Severity.ERROR,
    AlertKind.IMPORT_FAILED: Severity.ERROR,
    AlertKind.TIMEZONE_UNAVAILABLE: Severity.CRITICAL,
    AlertKind.RETRY_BUFFERED: Severity.WARNING,
    AlertKind.DELETE_FAILED: Severity.ERROR,
    AlertKind.BATCH_NOTIFICATION: Severity.NOTIFICATION,
    AlertKind.CURSOR_INVALID: Severity.CRITICAL,
    AlertKind.RETRY_FILE_REJECTED: Severity.ERROR,
    AlertKind.MEDIA_UNDECODABLE: Severity.WARNING,
    AlertKind.CONVERSATIONS_MISSING: Severity.ERROR,
    AlertKind.CLOCK_AHEAD: Severity.WARNING,
    AlertKind.IMPORT_TAKEN_OVER: Severity.WARNING,
}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Alert:
    """One alert to raise."""

    kind: AlertKind
    message: str
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    policy_id: int | None = None
    import_source_id: int | None = None
    conversation_id: int | None = None


class AlertSink(Protocol):
    """Where alerts are recorded (the archive's alert table, in production)."""

    async def record(self, alert: Alert) -> None: ...


class Alerter:
    """Raises alerts into a sink and the log."""

    def __init__(self, sink: AlertSink) -> None:
        self._sink = sink
        self.raised: list[Alert] = []

    async def raise_(self, alert: Alert) -> None:
        self.raised.append(alert)
        log.info(
            "alert_raised",
            kind=alert.kind.value,
            title=alert.kind.heading,
            severity=alert.kind.severity.value,
            policy_id=alert.policy_id,
            import_source_id=alert.import_source_id,
        )
        await self._sink.record(alert)


class ArchiveAlertSink:
    """Records alerts in the archive's alert table (state Active)."""

    def __init__(self, archive: Archive) -> None:
        self._archive = archive

    async def record(self, alert: Alert) -> None:
        await self._archive.alerts.add(
            AlertRecord(
                kind=alert.kind.value,
                title=alert.kind.heading,
                severity=alert.kind.severity.value,
                state=AlertState.ACTIVE.value,
                message=alert.message,
                details=dict(alert.details),
                policy_id=alert.policy_id,
                import_source_id=alert.import_source_id,
                conversation_id=alert.conversation_id,
            )
        )
