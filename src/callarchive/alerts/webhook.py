"""Alerts to a webhook: each notice is POSTed as JSON; failures are retried a few times.

A 2xx answer is success. Connection errors, 429 and 5xx answers are retried with a growing
pause (1, 2, 4 … seconds, at most 30) up to `retries` more times; any other answer is final.
"""

from __future__ import annotations

import httpx

from callarchive.alerts.notice import DeliveryError, Notice
from callarchive.clock import Clock

MAX_PAUSE_S = 30.0
TIMEOUT_S = 15.0


class WebhookChannel:
    """POSTs each notice as JSON to `url`."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        clock: Clock,
        retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._clock = clock
        self._retries = retries
        self._transport = transport

    async def send(self, notice: Notice) -> None:
        problem = ""
        async with httpx.AsyncClient(
            transport=self._transport, timeout=TIMEOUT_S, trust_env=False
        ) as client:
            for attempt in range(self._retries + 1):
                if attempt:
                    await self._clock.sleep(min(MAX_PAUSE_S, 2.0 ** (attempt - 1)))
                try:
                    response = await client.post(
                        self._url, json=notice.as_json(), headers={"User-Agent": "callarchive"}
                    )
                except httpx.TransportError as error:
                    problem = f"cannot reach it ({type(error).__name__}: {error})"
                    continue
                if response.is_success:
                    return
                problem = f"it answered {response.status_code}"
                if response.status_code != 429 and response.status_code < 500:
                    break
        raise DeliveryError(f"the alert webhook {self._host()} failed: {problem}")

    def _host(self) -> str:
        # The URL's path and query may hold a token: name only the host.
        return httpx.URL(self._url).host


__all__ = ["WebhookChannel"]
