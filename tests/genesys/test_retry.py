"""Pacing and retry decisions: a pure table, and the request budget on a fake clock."""

from __future__ import annotations

import pytest

from callarchive.clock import FakeClock
from callarchive.genesys import Action, RequestBudget, RetryPolicy, decide

POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("attempt", "status", "retry_after", "transport_error", "action", "delay"),
    [
        (1, 200, None, False, Action.RETURN, 0.0),
        (1, 201, None, False, Action.RETURN, 0.0),
        (1, 202, None, False, Action.RETURN, 0.0),
        (1, 400, None, False, Action.RETURN, 0.0),
        (1, 401, None, False, Action.RETURN, 0.0),
        (1, 403, None, False, Action.RETURN, 0.0),
        (1, 404, None, False, Action.RETURN, 0.0),
        (1, 500, None, False, Action.RETURN, 0.0),
        (1, 429, "7", False, Action.RETRY, 7.0),
        (1, 429, None, False, Action.RETRY, POLICY.default_retry_after_s),
        (1, 429, "soon", False, Action.RETRY, POLICY.default_retry_after_s),
        (1, 429, "180", False, Action.RETRY, 180.0),
        (1, 429, "181", False, Action.DAILY_LIMIT, 181.0),
        (POLICY.max_rate_limited_attempts, 429, "1", False, Action.GIVE_UP, 0.0),
        (1, 502, None, False, Action.RETRY, 0.375),
        (1, 503, None, False, Action.RETRY, 0.375),
        (1, 504, None, False, Action.RETRY, 0.375),
        (3, 503, None, False, Action.RETRY, 1.5),
        (1, None, None, True, Action.RETRY, 0.375),
        (POLICY.max_error_attempts, 503, None, False, Action.GIVE_UP, 0.0),
        (POLICY.max_error_attempts, None, None, True, Action.GIVE_UP, 0.0),
    ],
)
def test_decision_table(
    attempt: int,
    status: int | None,
    retry_after: str | None,
    transport_error: bool,
    action: Action,
    delay: float,
) -> None:
    decision = decide(
        POLICY,
        attempt=attempt,
        status=status,
        retry_after=retry_after,
        transport_error=transport_error,
        jitter=0.5,
    )
    assert decision.action is action
    assert decision.delay_s == pytest.approx(delay)


def test_backoff_is_capped() -> None:
    decision = decide(POLICY, attempt=5, status=503, jitter=0.999)
    assert decision.delay_s <= POLICY.max_delay_s
    policy = RetryPolicy(max_error_attempts=50)
    assert decide(policy, attempt=40, status=503, jitter=0.999).delay_s <= policy.max_delay_s


def test_jitter_spreads_backoff_between_half_and_full() -> None:
    low = decide(POLICY, attempt=2, status=503, jitter=0.0).delay_s
    high = decide(POLICY, attempt=2, status=503, jitter=0.999).delay_s
    assert low == pytest.approx(0.5)
    assert high == pytest.approx(1.0, abs=0.01)


async def test_budget_admits_its_allowance_at_once_then_waits_for_the_window() -> None:
    clock = FakeClock()
    budget = RequestBudget(5, clock, window_s=61.0)
    for _ in range(5):
        await budget.acquire()
    assert clock.slept == []
    await budget.acquire()
    assert clock.slept == [pytest.approx(61.0)]


async def test_budget_never_lets_more_than_its_allowance_into_any_window() -> None:
    clock = FakeClock()
    budget = RequestBudget(10, clock, window_s=61.0)
    sent = []
    for _ in range(45):
        await budget.acquire()
        sent.append(clock.monotonic())
    for i, at in enumerate(sent):
        in_window = [t for t in sent[i:] if t < at + 61.0]
        assert len(in_window) <= 10


def test_budget_needs_at_least_one_request() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RequestBudget(0, FakeClock())
