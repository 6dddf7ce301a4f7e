"""Which conversations retention deletes: a pure decision over candidates and `now`.

A conversation goes when its start plus its retention period (the recorded user's override,
else its policy's) lies before `now`, unless an active legal hold protects it. No period means
it is kept for ever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from callarchive.archive import Candidate


def is_due(candidate: Candidate, now: dt.datetime) -> bool:
    """True when `candidate` is past its retention at `now` and no legal hold protects it."""
    expires = candidate.expires_at
    return expires is not None and expires < now and not candidate.held


def due(candidates: Iterable[Candidate], now: dt.datetime) -> list[Candidate]:
    """The candidates retention deletes at `now`, in the order given."""
    return [candidate for candidate in candidates if is_due(candidate, now)]


__all__ = ["due", "is_due"]
