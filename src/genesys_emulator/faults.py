"""Fault profiles: the ways the real service and network misbehave, switched on by name.

A specification is a comma-separated list of profiles, each optionally with a rate, e.g.
`server-errors:0.2,slow`. `chaos` switches on every profile at a mild rate. Decisions come from
a seeded generator, so a run with the same seed and the same request order sees the same faults.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    """One kind of misbehaviour, named as on the command line."""

    RATE_LIMIT_BURST = "rate-limit-burst"  # a run of 429s with Retry-After
    SERVER_ERRORS = "server-errors"  # 502, 503 or 504
    INTERNAL_ERRORS = "internal-errors"  # 500
    CONNECTION_RESETS = "connection-resets"  # the connection drops mid-response
    SLOW = "slow"  # a response delayed by `slow_ms`
    TRUNCATED_MEDIA = "truncated-media"  # media body cut short of its Content-Length
    MALFORMED_JSON = "malformed-json"  # 200 with a body that is not JSON
    STUCK_TRANSCODE = "stuck-transcode"  # share of recordings whose transcoding never ends
    TOKEN_REVOCATION = "token-revocation"  # noqa: S105 - a profile name; every issued token revoked at once
    # Bad answers, not in `chaos` (each is a defect of Genesys or of something in its place):
    MISTYPED_FIELDS = "mistyped-fields"  # 200 with JSON missing required fields or mistyping them
    WRONG_CONTENT_TYPE = "wrong-content-type"  # 200 text/html (a sign-in page), API and media
    EMPTY_PAGES = "empty-pages"  # a details query page comes back empty before totalHits is reached
    ENDLESS_PAGING = "endless-paging"  # query pages and user pages never end (totalHits, nextUri)
    # totalHits is optional in AnalyticsConversationQueryResponse: details query pages without it.
    NO_TOTAL_HITS = "no-total-hits"
    OVERSIZED_MEDIA = "oversized-media"  # media body of 4 GiB (zeros after the recording)
    HANGING_MEDIA = "hanging-media"  # the media host accepts and never answers


DEFAULT_RATES: dict[FaultKind, float] = {
    FaultKind.RATE_LIMIT_BURST: 0.02,
    FaultKind.SERVER_ERRORS: 0.1,
    FaultKind.INTERNAL_ERRORS: 0.05,
    FaultKind.CONNECTION_RESETS: 0.05,
    FaultKind.SLOW: 0.05,
    FaultKind.TRUNCATED_MEDIA: 0.2,
    FaultKind.MALFORMED_JSON: 0.05,
    FaultKind.STUCK_TRANSCODE: 0.1,
    FaultKind.TOKEN_REVOCATION: 0.01,
    FaultKind.MISTYPED_FIELDS: 0.05,
    FaultKind.WRONG_CONTENT_TYPE: 0.05,
    FaultKind.EMPTY_PAGES: 0.2,
    FaultKind.ENDLESS_PAGING: 1.0,
    FaultKind.NO_TOTAL_HITS: 1.0,
    FaultKind.OVERSIZED_MEDIA: 0.2,
    FaultKind.HANGING_MEDIA: 0.2,
}
CHAOS_KINDS = tuple(DEFAULT_RATES)[:9]  # the misbehaviour of a healthy service and network
CHAOS_SCALE = 0.3
BURST_LENGTH = (3, 6)


@dataclass(frozen=True, kw_only=True, slots=True)
class Fault:
    """What to do to one request."""

    kind: FaultKind
    status: int = 0
    retry_after: int = 0


def parse(spec: str) -> dict[FaultKind, float]:
    """`server-errors:0.2,slow` → {SERVER_ERRORS: 0.2, SLOW: 0.05}; raises ValueError."""
    rates: dict[FaultKind, float] = {}
    for raw in spec.split(","):
        part = raw.strip()
        if not part or part == "none":
            continue
        name, _, rate_text = part.partition(":")
        if name == "chaos":
            rates.update({k: DEFAULT_RATES[k] * CHAOS_SCALE for k in CHAOS_KINDS})
            continue
        try:
            kind = FaultKind(name)
        except ValueError:
            known = ", ".join(["chaos", "none", *FaultKind])
            raise ValueError(f"unknown fault profile {name!r}; known: {known}") from None
        rates[kind] = _rate(name, rate_text) if rate_text else DEFAULT_RATES[kind]
    return rates


def _rate(name: str, text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0.0 <= rate <= 1.0:  # NaN fails too
        raise ValueError(f"fault rate for {name} must be a number between 0 and 1, not {text!r}")
    return rate


class Faults:
    """The active fault profiles and the seeded dice."""

    def __init__(self, spec: str, seed: int) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(f"{seed}:faults")
        self._burst_left = 0
        self.rates = parse(spec)

    def configure(self, spec: str) -> None:
        rates = parse(spec)
        with self._lock:
            self.rates = rates
            self._burst_left = 0

    def spec(self) -> str:
        return ",".join(f"{k.value}:{v:g}" for k, v in self.rates.items())

    def _roll(self, kind: FaultKind) -> bool:
        rate = self.rates.get(kind, 0.0)
        return rate > 0 and self._rng.random() < rate

    def for_api(self) -> Fault | None:
        """The fault, if any, for one API (or token) request."""
        with self._lock:
            if self._burst_left > 0 or self._roll(FaultKind.RATE_LIMIT_BURST):
                if self._burst_left == 0:
                    self._burst_left = self._rng.randint(*BURST_LENGTH)
                self._burst_left -= 1
                return Fault(kind=FaultKind.RATE_LIMIT_BURST, status=429, retry_after=1)
            if self._roll(FaultKind.SERVER_ERRORS):
                status = self._rng.choice((502, 503, 504))
                return Fault(kind=FaultKind.SERVER_ERRORS, status=status)
            for kind in (
                FaultKind.INTERNAL_ERRORS,
                FaultKind.CONNECTION_RESETS,
                FaultKind.SLOW,
                FaultKind.MALFORMED_JSON,
                FaultKind.TOKEN_REVOCATION,
                FaultKind.MISTYPED_FIELDS,
                FaultKind.WRONG_CONTENT_TYPE,
            ):
                if self._roll(kind):
                    return Fault(kind=kind, status=500 if kind == "internal-errors" else 0)
        return None

    def for_media(self) -> Fault | None:
        """The fault, if any, for one media download."""
        with self._lock:
            if self._roll(FaultKind.SERVER_ERRORS):
                return Fault(kind=FaultKind.SERVER_ERRORS, status=503)
            for kind in (
                FaultKind.CONNECTION_RESETS,
                FaultKind.SLOW,
                FaultKind.TRUNCATED_MEDIA,
                FaultKind.WRONG_CONTENT_TYPE,
                FaultKind.OVERSIZED_MEDIA,
                FaultKind.HANGING_MEDIA,
            ):
                if self._roll(kind):
                    return Fault(kind=kind)
        return None

    def for_page(self) -> FaultKind | None:
        """What, if anything, goes wrong with the paging of one page (query or users)."""
        with self._lock:
            for kind in (FaultKind.ENDLESS_PAGING, FaultKind.EMPTY_PAGES):
                if self._roll(kind):
                    return kind
        return None

    def omits_total_hits(self) -> bool:
        """True when a details query page leaves `totalHits` out."""
        with self._lock:
            return self._roll(FaultKind.NO_TOTAL_HITS)

    @property
    def stuck_transcode_ratio(self) -> float:
        return self.rates.get(FaultKind.STUCK_TRANSCODE, 0.0)
