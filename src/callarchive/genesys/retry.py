"""Pacing and retries: a request budget under the Genesys rate limit, and what to do on failure.

`decide` is a pure function from one attempt's outcome to an action (hand the response back,
retry after a delay, give up, or stop for a daily limit); `RetryingTransport` is the one loop that
acts on it, with an injected clock. Genesys's guidance: retry 429 (after `Retry-After` seconds)
and 502/503/504 with backoff; 500 is not retryable; a `Retry-After` over 180 s is a daily limit.
`RequestBudget` keeps us under the per-token limit (300 requests a minute by default) so that
429s are rare rather than routine.
"""

from __future__ import annotations

import asyncio
import collections
import random
import ssl
from dataclasses import dataclass
from enum import StrEnum

import httpx
import structlog

from callarchive.clock import Clock

log = structlog.get_logger("callarchive.genesys")

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class Action(StrEnum):
    """What the transport does after one attempt."""

    RETURN = "return"  # hand the response to the caller (success, or an error it must map)
    RETRY = "retry"  # wait `delay_s`, then send the same request again
    GIVE_UP = "give_up"  # attempts exhausted: return the last response or raise the last error
    DAILY_LIMIT = "daily_limit"  # Retry-After too long to wait: return the 429 to the caller


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryPolicy:
    """Bounds of the retry loop."""

    max_rate_limited_attempts: int = 30
    max_error_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    default_retry_after_s: float = 3.0
    max_retry_after_s: float = 180.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    action: Action
    delay_s: float = 0.0
    reason: str = ""


def parse_retry_after(value: str | None, default: float) -> float:
    """Seconds from a Retry-After header (Genesys sends whole seconds)."""
    if value is None:
        return default
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return default


def decide(
    policy: RetryPolicy,
    *,
    attempt: int,
    status: int | None,
    retry_after: str | None = None,
    transport_error: bool = False,
    jitter: float = 0.5,
) -> Decision:
    """The action after attempt number `attempt` (1-based) ended with `status` or an error.

    `jitter` in [0, 1) spreads backoff delays; pass a random number (tests pass a constant).
    """
    if status == 429:
        wait = parse_retry_after(retry_after, policy.default_retry_after_s)
        if wait > policy.max_retry_after_s:
            return Decision(action=Action.DAILY_LIMIT, delay_s=wait, reason="retry_after_too_long")
        if attempt >= policy.max_rate_limited_attempts:
            return Decision(action=Action.GIVE_UP, reason="rate_limited_too_often")
        return Decision(action=Action.RETRY, delay_s=wait, reason="rate_limited")
    if transport_error or status in RETRYABLE_STATUSES:
        if attempt >= policy.max_error_attempts:
            return Decision(action=Action.GIVE_UP, reason="unavailable")
        backoff = min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1))
        delay = backoff * (0.5 + jitter / 2)
        return Decision(action=Action.RETRY, delay_s=delay, reason=f"status_{status or 'error'}")
    return Decision(action=Action.RETURN)


class RequestBudget:
    """At most `per_minute` requests in any window of `window_s` seconds (sliding window).

    The window is a little longer than a minute so that requests sent a minute apart cannot
    arrive less than a minute apart and trip the server's own window.
    """

    def __init__(self, per_minute: int, clock: Clock, window_s: float = 61.0) -> None:
        if per_minute < 1:
            raise ValueError("the request budget must allow at least one request a minute")
        self.per_minute = per_minute
        self.window_s = window_s
        self._clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, then count it."""
        async with self._lock:
            while True:
                now = self._clock.monotonic()
                while self._sent and self._sent[0] <= now - self.window_s:
                    self._sent.popleft()
                if len(self._sent) < self.per_minute:
                    self._sent.append(now)
                    return
                await self._clock.sleep(self._sent[0] + self.window_s - now)


def is_tls_failure(error: BaseException) -> bool:
    """True when an httpx error was caused by TLS (not worth retrying)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class RetryingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport: paces requests through a budget and retries per `decide`."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        clock: Clock,
        policy: RetryPolicy | None = None,
        budget: RequestBudget | None = None,
        rng: random.Random | None = None,
        buffer_bodies: bool = True,
    ) -> None:
        self._inner = inner
        # Read JSON bodies inside the loop, so a connection dropped mid-body is retried too;
        # media is streamed and its own download loop handles a body that breaks off.
        self._buffer = buffer_bodies
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._budget = budget
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            if self._budget is not None:
                await self._budget.acquire()
            try:
                response = await self._inner.handle_async_request(request)
                if self._buffer:
                    response = await _buffered(response)
            except httpx.TransportError as error:
                if is_tls_failure(error):
                    raise
                decision = decide(
                    self._policy,
                    attempt=attempt,
                    status=None,
                    transport_error=True,
                    jitter=self._rng.random(),
                )
                if decision.action is not Action.RETRY:
                    raise
                log.info(
                    "request_retried",
                    path=request.url.path,
                    reason=type(error).__name__,
                    attempt=attempt,
                    delay_s=round(decision.delay_s, 3),
                )
                await self._clock.sleep(decision.delay_s)
                continue
            decision = decide(
                self._policy,
                attempt=attempt,
                status=response.status_code,
                retry_after=response.headers.get("retry-after"),
                jitter=self._rng.random(),
            )
            if decision.action is not Action.RETRY:
                return response
            await response.aclose()
            event = "rate_limited" if response.status_code == 429 else "request_retried"
            log.info(
                event,
                path=request.url.path,
                status=response.status_code,
                attempt=attempt,
                delay_s=round(decision.delay_s, 3),
            )
            await self._clock.sleep(decision.delay_s)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _buffered(response: httpx.Response) -> httpx.Response:
    """The same response with its raw body read into memory (encoding left as received)."""
    if response.is_stream_consumed:  # built in memory (already read)
        return response
    try:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(raw),
        extensions=response.extensions,
    )
