"""Grouping repeated identical alerts: send the first, count the rest, report the count.

Alerts are identical when their kind, policy, import source and message are. Within `period`
after one was sent, identical ones are only counted. When the period is over, the count goes
out once as a summary (`due`), or with the next identical alert, whichever comes first. A
retry buffer that fails the same way every five minutes thus mails once an hour, not a
thousand times. Pure: every decision takes `now`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Hashable


@dataclasses.dataclass(slots=True)
class _Group:
    sent_at: dt.datetime
    held: int = 0
    last_held_at: dt.datetime | None = None


class Grouper:
    """Remembers, per identical-alert key, when one was last sent and how many were held."""

    def __init__(self, period: dt.timedelta) -> None:
        self._period = period
        self._groups: dict[Hashable, _Group] = {}

    def admit(self, key: Hashable, now: dt.datetime) -> int | None:
        """None when the alert is held (counted); otherwise send it, with the number of
        identical alerts held back since the previous one was sent."""
        group = self._groups.get(key)
        if group is not None and now - group.sent_at < self._period:
            group.held += 1
            group.last_held_at = now
            return None
        held = group.held if group is not None else 0
        self._groups[key] = _Group(sent_at=now)
        return held

    def __contains__(self, key: Hashable) -> bool:
        """True while `key` has a group (an alert was sent and its period is not over)."""
        return key in self._groups

    def due(self, now: dt.datetime) -> list[tuple[Hashable, int]]:
        """Keys whose period is over with alerts held: their counts, now to be sent; the
        groups start again (the next identical alert is sent at once)."""
        found: list[tuple[Hashable, int]] = []
        for key, group in list(self._groups.items()):
            if now - group.sent_at < self._period:
                continue
            if group.held:
                found.append((key, group.held))
            del self._groups[key]
        return found


__all__ = ["Grouper"]
