"""What a delivery channel sends: one alert (or a count of its repeats), ready to render.

A `Notice` is built from a stored alert with the names of its policy and import source. Every
channel renders the same facts: title, severity, state, message, policy, import source, when it
was raised, the alert's id, and how many identical alerts were held back since the last one sent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Protocol

from callarchive.alerts.alerter import Severity
from callarchive.errors import RetryableError

SEVERITY_ORDER = (
    Severity.NOTIFICATION,
    Severity.WARNING,
    Severity.ERROR,
    Severity.CRITICAL,
    Severity.FATAL,
)


def at_least(severity: Severity, minimum: Severity) -> bool:
    """True when `severity` is `minimum` or worse."""
    return SEVERITY_ORDER.index(severity) >= SEVERITY_ORDER.index(minimum)


class DeliveryError(RetryableError):
    """A channel could not deliver a notice (server away, refused, bad answer)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Notice:
    """One alert as the channels send it."""

    kind: str
    title: str
    severity: Severity
    state: str
    message: str
    raised_at: dt.datetime
    alert_id: int | None = None
    policy: str | None = None
    import_source: str | None = None
    repeated: int = 0
    """Identical alerts held back (grouped) before this one; a summary has its count here."""
    summary: bool = False
    """True for the count of repeats sent when a grouping period ends."""

    @property
    def subject(self) -> str:
        """A one-line heading: `[callarchive] Error: Conversation failed to import`."""
        head = f"[callarchive] {self.severity.value}: {self.title}"
        if self.summary:
            head += f" (repeated {self.repeated} times)"
        return head

    def text(self) -> str:
        """The notice as plain text (e-mail body)."""
        lines = [self.subject, "", self.message, ""]
        lines += [f"{name}: {value}" for name, value in self.facts().items() if value is not None]
        return "\n".join(lines) + "\n"

    def facts(self) -> dict[str, Any]:
        """The notice's fields besides its message, in a fixed order."""
        return {
            "kind": self.kind,
            "severity": self.severity.value,
            "state": self.state,
            "policy": self.policy,
            "import_source": self.import_source,
            "raised_at": self.raised_at.astimezone(dt.UTC).isoformat(),
            "alert_id": self.alert_id,
            "repeated": self.repeated,
        }

    def as_json(self) -> dict[str, Any]:
        """The webhook's JSON document."""
        return {"title": self.title, "message": self.message, "summary": self.summary} | (
            self.facts()
        )


class Channel(Protocol):
    """A way out for alerts (e-mail, syslog, webhook)."""

    @property
    def name(self) -> str: ...

    async def send(self, notice: Notice) -> None:
        """Deliver `notice`; `DeliveryError` when it could not be."""
        ...


__all__ = ["SEVERITY_ORDER", "Channel", "DeliveryError", "Notice", "at_least"]
