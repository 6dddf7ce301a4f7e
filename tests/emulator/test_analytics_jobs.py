"""Asynchronous details jobs: /api/v2/analytics/conversations/details/jobs (API reference 2.2).

Submit, poll until FULFILLED (the emulator clock is moved past `job_delay_s`), read the results
by cursor; jobs read the data lake, so they see only conversations that ended before
`dataAvailabilityDate`, with lifetime-overlap semantics and no 7-day or 35-day limit.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest

from tests.emulator.conftest import EmulatorFactory
from tests.emulator.harness import RunningEmulator, assert_valid

JOBS = "/api/v2/analytics/conversations/details/jobs"
Json = dict[str, Any]
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _interval(start: dt.datetime, end: dt.datetime) -> str:
    return f"{_iso(start)}/{_iso(end)}"


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _midnight(emulator: RunningEmulator, days_back: int) -> dt.datetime:
    today = emulator.now().date()
    return dt.datetime.combine(today - dt.timedelta(days=days_back), dt.time(), dt.UTC)


def _submit(api: httpx.Client, body: Json) -> str:
    response = api.post(JOBS, json=body)
    assert response.status_code == 202, response.text
    assert_valid(response.json(), "AsyncQueryResponse")
    return str(response.json()["jobId"])


def _fulfil(emulator: RunningEmulator) -> None:
    emulator.advance(emulator.config.job_delay_s + 1)


def _pages(api: httpx.Client, job_id: str, page_size: int) -> list[Json]:
    """Every results page, following `cursor` until it is absent."""
    pages: list[Json] = []
    params: dict[str, Any] = {"pageSize": page_size}
    while True:
        response = api.get(f"{JOBS}/{job_id}/results", params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if "cursor" not in pages[-1]:
            return pages
        params = {"pageSize": page_size, "cursor": pages[-1]["cursor"]}


def _run(emulator: RunningEmulator, body: Json, page_size: int = 100) -> list[Json]:
    """Submit a job, let it finish, and return all its conversations."""
    with emulator.api() as api:
        job_id = _submit(api, body)
        _fulfil(emulator)
        pages = _pages(api, job_id, page_size)
    return [c for page in pages for c in page.get("conversations", [])]


def _inject(emulator: RunningEmulator, start: dt.datetime, duration_s: float) -> str:
    call = {"start": _iso(start), "duration_s": duration_s}
    return str(emulator.control("POST", "calls", json=call)["conversation_id"])


def _assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid(body, "ErrorBody")
    assert body["code"] == code
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]


def _history(emulator: RunningEmulator) -> str:
    """The interval of the default org's three days of traffic."""
    return _interval(_midnight(emulator, 3), _midnight(emulator, 0))


# -- life cycle ----------------------------------------------------------------------------


def test_a_job_is_queued_until_its_delay_has_passed_then_fulfilled(
    emulator: RunningEmulator,
) -> None:
    with emulator.api() as api:
        job_id = _submit(api, {"interval": _history(emulator)})
        queued = api.get(f"{JOBS}/{job_id}").json()
        emulator.advance(emulator.config.job_delay_s / 2)
        still_queued = api.get(f"{JOBS}/{job_id}").json()
        emulator.advance(emulator.config.job_delay_s / 2 + 1)
        fulfilled = api.get(f"{JOBS}/{job_id}").json()
    for status in (queued, still_queued, fulfilled):
        assert_valid(status, "AsyncQueryStatus")
    assert [queued["state"], still_queued["state"], fulfilled["state"]] == [
        "QUEUED",
        "QUEUED",
        "FULFILLED",
    ]
    assert "completionDate" not in queued
    assert _parse(fulfilled["completionDate"]) >= _parse(fulfilled["submissionDate"])


def test_results_before_fulfilment_are_refused_with_400(emulator: RunningEmulator) -> None:
    with emulator.api() as api:
        job_id = _submit(api, {"interval": _history(emulator)})
        _assert_error(api.get(f"{JOBS}/{job_id}/results"), 400, "bad.request")


def test_a_deleted_job_is_gone(emulator: RunningEmulator) -> None:
    with emulator.api() as api:
        job_id = _submit(api, {"interval": _history(emulator)})
        deleted = api.delete(f"{JOBS}/{job_id}")
        status = api.get(f"{JOBS}/{job_id}")
    assert deleted.status_code in (200, 202, 204)
    assert not deleted.content
    _assert_error(status, 404, "not.found")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/results"), ("DELETE", "")],
    ids=["status", "results", "delete"],
)
def test_a_job_of_another_client_is_not_found(
    emulator: RunningEmulator, method: str, suffix: str
) -> None:
    emulator.control(
        "POST",
        "clients",
        json={
            "client_id": "other-importer",
            "client_secret": "other-secret",
            "permissions": ["analytics:conversationDetail:view"],
        },
    )
    with emulator.api() as api:
        job_id = _submit(api, {"interval": _history(emulator)})
    _fulfil(emulator)
    with emulator.api(emulator.token("other-importer", "other-secret")) as other:
        _assert_error(other.request(method, f"{JOBS}/{job_id}{suffix}"), 404, "not.found")
    with emulator.api() as api:
        assert api.get(f"{JOBS}/{job_id}").json()["state"] == "FULFILLED"


def test_an_unknown_job_is_not_found(emulator: RunningEmulator) -> None:
    with emulator.api() as api:
        _assert_error(api.get(f"{JOBS}/9b7c1a52-0000-4000-8000-000000000000"), 404, "not.found")


@pytest.mark.parametrize(
    "cursor", ["garbage", "0" * 40, "ffffffffffffffffffffffffffffffff1"], ids=str
)
def test_a_cursor_the_job_did_not_hand_out_is_refused_with_400(
    emulator: RunningEmulator, cursor: str
) -> None:
    with emulator.api() as api:
        job_id = _submit(api, {"interval": _history(emulator)})
        _fulfil(emulator)
        response = api.get(f"{JOBS}/{job_id}/results", params={"cursor": cursor})
    _assert_error(response, 400, "invalid.value")


def test_a_cursor_of_another_job_is_refused_with_400(emulator: RunningEmulator) -> None:
    with emulator.api() as api:
        first = _submit(api, {"interval": _history(emulator)})
        second = _submit(api, {"interval": _history(emulator)})
        _fulfil(emulator)
        cursor = api.get(f"{JOBS}/{first}/results", params={"pageSize": 10}).json()["cursor"]
        response = api.get(f"{JOBS}/{second}/results", params={"cursor": cursor})
    _assert_error(response, 400, "invalid.value")


# -- results -------------------------------------------------------------------------------


def test_results_are_cursor_paged_and_validate_against_the_official_models(
    emulator: RunningEmulator,
) -> None:
    with emulator.api() as api:
        job_id = _submit(api, {"interval": _history(emulator)})
        _fulfil(emulator)
        pages = _pages(api, job_id, 50)
    assert len(pages) > 3
    for page in pages:
        assert_valid(page, "AnalyticsConversationAsyncQueryResponse")
        for conversation in page.get("conversations", []):
            assert_valid(conversation, "AnalyticsConversation")
    assert all(len(page["conversations"]) == 50 for page in pages[:-1])


def test_results_hold_every_ground_truth_conversation_exactly_once_in_start_order(
    emulator: RunningEmulator,
) -> None:
    conversations = _run(emulator, {"interval": _history(emulator)}, page_size=37)
    truth = emulator.ground_truth()["conversations"]
    ids = [c["conversationId"] for c in conversations]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(c["conversation_id"] for c in truth)
    starts = [_parse(c["conversationStart"]) for c in conversations]
    assert starts == sorted(starts)


def test_the_stats_count_the_conversations_the_results_pages_listed(
    emulator: RunningEmulator,
) -> None:
    emulator.control("DELETE", "stats")
    conversations = _run(emulator, {"interval": _history(emulator)}, page_size=37)
    assert emulator.stats()["conversations_listed"] == len(conversations) > 37


def test_participants_carry_the_partition_attribute_of_queued_inbound_calls(
    emulator: RunningEmulator,
) -> None:
    conversations = _run(emulator, {"interval": _history(emulator)})
    truth = {c["conversation_id"]: c for c in emulator.ground_truth()["conversations"]}
    partitions = {}
    for conversation in conversations:
        attributes = [p["attributes"] for p in conversation["participants"] if "attributes" in p]
        assert len(attributes) <= 1
        partitions[conversation["conversationId"]] = (
            attributes[0]["partition"] if attributes else None
        )
    assert partitions == {i: truth[i]["partition"] for i in partitions}
    assert {None} < set(partitions.values())


def test_only_conversations_ended_by_the_data_availability_date_are_included(
    emulator: RunningEmulator,
) -> None:
    now = emulator.now()
    lag = dt.timedelta(seconds=emulator.config.data_lag_s)
    ends = [now - lag + k * M for k in range(-5, 5)]
    injected = {_inject(emulator, end - 10 * M, 600): end for end in ends}
    with emulator.api() as api:
        job_id = _submit(api, {"interval": _interval(now - 2 * H, now)})
        _fulfil(emulator)
        pages = _pages(api, job_id, 100)
    available = _parse(pages[0]["dataAvailabilityDate"])
    ids = {c["conversationId"] for p in pages for c in p.get("conversations", [])}
    expected = {i for i, end in injected.items() if end <= available}
    assert 0 < len(expected) < len(injected)
    assert ids & set(injected) == expected


@pytest.mark.parametrize(
    ("start_of_day", "included"), [(False, True), (True, False)], ids=["default", "start-of-day"]
)
def test_a_conversation_started_the_day_before_is_returned_unless_start_of_day_matching(
    emulator: RunningEmulator, start_of_day: bool, included: bool
) -> None:
    day = _midnight(emulator, 1)
    conversation_id = _inject(emulator, day - H, 2 * 3600)
    body = {
        "interval": _interval(day + H / 2, day + 2 * H),
        "startOfDayIntervalMatching": start_of_day,
    }
    ids = {c["conversationId"] for c in _run(emulator, body)}
    assert (conversation_id in ids) is included


def test_a_call_longer_than_any_generated_one_is_returned_for_an_interval_it_overlaps(
    emulator: RunningEmulator,
) -> None:
    day = _midnight(emulator, 1)
    conversation_id = _inject(emulator, day + H, 8 * 3600)
    ids = {
        c["conversationId"]
        for c in _run(emulator, {"interval": _interval(day + 8 * H, day + 9 * H)})
    }
    assert conversation_id in ids


def test_limit_caps_the_number_of_results(emulator: RunningEmulator) -> None:
    conversations = _run(emulator, {"interval": _history(emulator), "limit": 42}, page_size=10)
    assert len(conversations) == 42


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"interval": "yesterday/today"}, {}, 400, "invalid.date"),
        ({}, {}, 400, "invalid.date"),
        ({"interval": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", "limit": 0}, {}, 400, None),
        (
            {"interval": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z"},
            {"Content-Type": "text/plain"},
            415,
            "unsupported.media.type",
        ),
    ],
    ids=["malformed-interval", "no-interval", "limit-0", "not-json"],
)
def test_a_malformed_job_is_refused(
    emulator: RunningEmulator, body: Json, headers: dict[str, str], status: int, code: str | None
) -> None:
    with emulator.api() as api:
        response = api.post(
            JOBS, content=json.dumps(body), headers={"Content-Type": "application/json", **headers}
        )
    assert response.status_code == status, response.text
    assert_valid(response.json(), "ErrorBody")
    if code is not None:
        assert response.json()["code"] == code


# -- availability --------------------------------------------------------------------------


def test_data_availability_is_now_minus_the_lag_to_the_minute(emulator: RunningEmulator) -> None:
    lag = dt.timedelta(seconds=emulator.config.data_lag_s)
    before = emulator.now()
    with emulator.api() as api:
        response = api.get(f"{JOBS}/availability")
    after = emulator.now()
    assert response.status_code == 200, response.text
    assert_valid(response.json(), "DataAvailabilityResponse")
    available = _parse(response.json()["dataAvailabilityDate"])
    assert (available.second, available.microsecond) == (0, 0)
    floor = (before - lag).replace(second=0, microsecond=0)
    assert floor <= available <= after - lag


def test_data_availability_moves_with_the_clock(emulator: RunningEmulator) -> None:
    with emulator.api() as api:
        first = _parse(api.get(f"{JOBS}/availability").json()["dataAvailabilityDate"])
        emulator.advance(3600)
        second = _parse(api.get(f"{JOBS}/availability").json()["dataAvailabilityDate"])
    assert second - first in (H, H + dt.timedelta(minutes=1))


# -- history beyond the query's reach ------------------------------------------------------


def test_a_40_day_interval_returns_all_settled_history(make_emulator: EmulatorFactory) -> None:
    today = dt.datetime.now(dt.UTC).date()
    emulator = make_emulator(start=today - dt.timedelta(days=40), days=40, calls_per_hour=0.25)
    start = dt.datetime.combine(today - dt.timedelta(days=40), dt.time(), dt.UTC)
    with emulator.api() as api:
        job_id = _submit(api, {"interval": _interval(start, start + 40 * 24 * H)})
        _fulfil(emulator)
        pages = _pages(api, job_id, 100)
    available = _parse(pages[0]["dataAvailabilityDate"])
    ids = [c["conversationId"] for p in pages for c in p.get("conversations", [])]
    truth = emulator.ground_truth()["conversations"]
    expected = [c["conversation_id"] for c in truth if c["end"] and _parse(c["end"]) <= available]
    assert len(expected) > 100
    assert sorted(ids) == sorted(expected)
    assert min(_parse(c["start"]) for c in truth) < start + 24 * H
