"""Request statistics: what the API saw, for tests and benchmarks (`GET /_emulator/stats`)."""

from __future__ import annotations

import collections
import threading
from typing import Any


class Stats:
    """Counts requests by endpoint, status and client, media requests carrying a token, and the
    conversations listed by details query pages and details job results pages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: collections.Counter[tuple[str, int, str]] = collections.Counter()
        self._media_with_bearer = 0
        self._tokens_issued = 0
        self._conversations_listed = 0

    def record(self, endpoint: str, status: int, client: str) -> None:
        with self._lock:
            self._requests[(endpoint, status, client)] += 1

    def media_bearer_seen(self) -> None:
        with self._lock:
            self._media_with_bearer += 1

    def listed(self, count: int) -> None:
        with self._lock:
            self._conversations_listed += count

    def token_issued(self) -> None:
        with self._lock:
            self._tokens_issued += 1

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._media_with_bearer = 0
            self._tokens_issued = 0
            self._conversations_listed = 0

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            rows = [
                {"endpoint": e, "status": s, "client": c, "count": n}
                for (e, s, c), n in sorted(self._requests.items())
            ]
            by_endpoint: collections.Counter[str] = collections.Counter()
            for (endpoint, _, _), count in self._requests.items():
                by_endpoint[endpoint] += count
            return {
                "requests": rows,
                "by_endpoint": dict(sorted(by_endpoint.items())),
                "total": sum(self._requests.values()),
                "rate_limited": sum(n for (_, s, _), n in self._requests.items() if s == 429),
                "media_requests_with_bearer": self._media_with_bearer,
                "tokens_issued": self._tokens_issued,
                "conversations_listed": self._conversations_listed,
            }
