"""The per-token rate limit: 429 with Retry-After in seconds, a one-minute window (§7.1)."""

from __future__ import annotations

import httpx
import pytest

from tests.emulator.conftest import EmulatorFactory
from tests.emulator.harness import RunningEmulator, assert_valid

LIMIT = 5
USERS = "/api/v2/users?pageSize=1"


@pytest.fixture
def limited(make_emulator: EmulatorFactory) -> RunningEmulator:
    return make_emulator(rate_limit_per_minute=LIMIT)


def _burst(emulator: RunningEmulator, token: str, count: int) -> list[httpx.Response]:
    with emulator.api(token) as api:
        return [api.get(USERS) for _ in range(count)]


def test_requests_within_the_budget_pass(limited: RunningEmulator):
    responses = _burst(limited, limited.token(), LIMIT)

    assert [r.status_code for r in responses] == [200] * LIMIT


def test_request_over_the_budget_is_429_with_retry_after_in_seconds(limited: RunningEmulator):
    *_, over = _burst(limited, limited.token(), LIMIT + 1)

    assert over.status_code == 429
    assert over.headers["Retry-After"].isdigit()
    assert 1 <= int(over.headers["Retry-After"]) <= 60


def test_429_body_is_the_documented_error_body(limited: RunningEmulator):
    *_, over = _burst(limited, limited.token(), LIMIT + 1)

    body = over.json()
    assert_valid(body, "ErrorBody")
    assert body["code"] == "too.many.requests.retry.after"
    assert body["status"] == 429
    assert f"[{over.headers['Retry-After']}] seconds" in body["message"]
    assert body["contextId"] == over.headers["ININ-Correlation-Id"]


def test_budget_is_back_after_a_minute(limited: RunningEmulator):
    token = limited.token()
    _burst(limited, token, LIMIT + 1)

    limited.advance(61)

    assert [r.status_code for r in _burst(limited, token, LIMIT)] == [200] * LIMIT


def test_retry_after_is_enough_to_pass_again(limited: RunningEmulator):
    token = limited.token()
    *_, over = _burst(limited, token, LIMIT + 1)

    limited.advance(int(over.headers["Retry-After"]))

    assert _burst(limited, token, 1)[0].status_code == 200


def test_each_token_has_its_own_budget(limited: RunningEmulator):
    _burst(limited, limited.token(), LIMIT + 1)

    responses = _burst(limited, limited.token(), LIMIT)

    assert [r.status_code for r in responses] == [200] * LIMIT


def test_rejected_requests_do_not_use_up_the_budget(limited: RunningEmulator):
    token = limited.token()
    _burst(limited, token, LIMIT + 10)

    limited.advance(61)

    assert [r.status_code for r in _burst(limited, token, LIMIT)] == [200] * LIMIT


def test_stats_count_rate_limited_requests(limited: RunningEmulator):
    _burst(limited, limited.token(), LIMIT + 3)

    stats = limited.stats()

    assert stats["rate_limited"] == 3
    rows = [r for r in stats["requests"] if r["status"] == 429]
    assert sum(r["count"] for r in rows) == 3
    assert {r["client"] for r in rows} == {limited.config.client_id}


def test_zero_rate_limit_means_no_limit(make_emulator: EmulatorFactory):
    emulator = make_emulator(rate_limit_per_minute=0)

    responses = _burst(emulator, emulator.token(), 20)

    assert {r.status_code for r in responses} == {200}
