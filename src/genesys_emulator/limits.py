"""Per-token request budget (Genesys's `client.credentials.token.rate.per.minute`).

A sliding window of one minute on the emulator clock, so a test can move time forward instead
of waiting for the window to drain.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import threading

WINDOW = dt.timedelta(minutes=1)


class RateLimiter:
    """Admits at most `per_minute` requests per key in any minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, collections.deque[dt.datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, now: dt.datetime) -> int:
        """0 when admitted, else the seconds to wait (the Retry-After value)."""
        if self.per_minute <= 0:
            return 0
        with self._lock:
            seen = self._seen.setdefault(key, collections.deque())
            while seen and seen[0] <= now - WINDOW:
                seen.popleft()
            if len(seen) < self.per_minute:
                seen.append(now)
                return 0
            wait = (seen[0] + WINDOW - now).total_seconds()
        return max(1, math.ceil(wait))
