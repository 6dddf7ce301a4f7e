"""The synchronous details query: POST /api/v2/analytics/conversations/details/query.

Checked against the API reference (section 2.1, section 7) and the emulator's ground truth:
the interval's lifetime-overlap and started-on-a-touched-day semantics, paging, order, filters,
the documented limits, and the ErrorBody of every refusal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.conftest import BASE
from tests.emulator.harness import RunningEmulator, assert_valid, serve

QUERY = "/api/v2/analytics/conversations/details/query"
Json = dict[str, Any]


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _interval(start: dt.datetime, end: dt.datetime) -> str:
    return f"{_iso(start)}/{_iso(end)}"


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _midnight(emulator: RunningEmulator, days_back: int) -> dt.datetime:
    """UTC midnight `days_back` days before the emulator's today."""
    today = emulator.now().date()
    return dt.datetime.combine(today - dt.timedelta(days=days_back), dt.time(), dt.UTC)


def _post(api: httpx.Client, body: Json) -> Json:
    response = api.post(QUERY, json=body)
    assert response.status_code == 200, response.text
    document: Json = response.json()
    return document


def _all_pages(api: httpx.Client, body: Json, page_size: int = 100) -> list[Json]:
    """Every conversation the query returns, page after page, until pageNumber*pageSize >= hits."""
    conversations: list[Json] = []
    number = 1
    while True:
        page = _post(api, {**body, "paging": {"pageSize": page_size, "pageNumber": number}})
        conversations.extend(page.get("conversations", []))
        if number * page_size >= page["totalHits"]:
            return conversations
        number += 1


def _ids(api: httpx.Client, body: Json) -> list[str]:
    return [c["conversationId"] for c in _all_pages(api, body)]


def _truth_in(truth: Json, start: dt.datetime, end: dt.datetime) -> list[Json]:
    """Ground-truth conversations the query must return for [start, end): overlap + start day."""
    first_day = dt.datetime.combine(start.date(), dt.time(), dt.UTC)
    after_last_day = dt.datetime.combine(
        (end - dt.timedelta(microseconds=1)).date(), dt.time(), dt.UTC
    ) + dt.timedelta(days=1)
    return [
        c
        for c in truth["conversations"]
        if first_day <= _parse(c["start"]) < after_last_day
        and _parse(c["start"]) < end
        and _parse(c["end"]) >= start
    ]


def _inject(emulator: RunningEmulator, **call: Any) -> str:
    if isinstance(call.get("start"), dt.datetime):
        call["start"] = _iso(call["start"])
    return str(emulator.control("POST", "calls", json=call)["conversation_id"])


def _assert_error(response: httpx.Response, status: int, code: str) -> Json:
    assert response.status_code == status, response.text
    body: Json = response.json()
    assert_valid(body, "ErrorBody")
    assert body["code"] == code
    assert body["status"] == status
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    return body


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """One emulator shared by the tests that only read (no injected calls, no clock moves)."""
    media = tmp_path_factory.mktemp("media")
    with serve(dataclasses.replace(BASE, cache_dir=str(media))) as running:
        yield running


# -- response model ------------------------------------------------------------------------


def test_every_page_and_conversation_validates_against_the_official_models(
    org: RunningEmulator,
) -> None:
    interval = _interval(_midnight(org, 3), _midnight(org, 0))
    pages: list[Json] = []
    with org.api() as api:
        while not pages or len(pages) * 100 < pages[-1]["totalHits"]:
            paging = {"pageSize": 100, "pageNumber": len(pages) + 1}
            pages.append(_post(api, {"interval": interval, "paging": paging}))
    assert len(pages) > 3
    for page in pages:
        assert_valid(page, "AnalyticsConversationQueryResponse")
        for conversation in page["conversations"]:
            assert_valid(conversation, "AnalyticsConversationWithoutAttributes")


def test_an_in_progress_conversation_validates_against_the_official_model(
    emulator: RunningEmulator,
) -> None:
    now = emulator.now()
    conversation_id = _inject(emulator, duration_s=3600, kind="inbound", agents=2)
    emulator.advance(900)
    conversation = _open_query(emulator, conversation_id, now)
    assert "conversationEnd" not in conversation
    assert_valid(conversation, "AnalyticsConversationWithoutAttributes")


def test_a_call_injected_between_pages_counts_on_the_next_page(emulator: RunningEmulator) -> None:
    """The pages of a past interval are rendered once, unless the org's history changed."""
    day = _midnight(emulator, 2)
    body = {"interval": _interval(day, day + dt.timedelta(days=1))}
    with emulator.api() as api:
        first = _post(api, {**body, "paging": {"pageSize": 5, "pageNumber": 1}})
        injected = _inject(emulator, start=day + dt.timedelta(hours=3), duration_s=60)
        second = _post(api, {**body, "paging": {"pageSize": 5, "pageNumber": 2}})
        ids = _ids(api, body)
    assert second["totalHits"] == first["totalHits"] + 1
    assert injected in ids


def test_a_conversation_seen_in_progress_is_seen_ended_once_it_has(
    emulator: RunningEmulator,
) -> None:
    now = emulator.now()
    body = {"interval": _interval(now - dt.timedelta(hours=1), now)}
    conversation_id = _inject(
        emulator, start=now - dt.timedelta(minutes=10), duration_s=1800, kind="inbound"
    )
    with emulator.api() as api:
        before = {c["conversationId"]: c for c in _all_pages(api, body)}
        emulator.advance(3600)
        after = {c["conversationId"]: c for c in _all_pages(api, body)}
    assert "conversationEnd" not in before[conversation_id]
    assert "conversationEnd" in after[conversation_id]


# -- interval semantics --------------------------------------------------------------------

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("call", "interval", "returned"),
    [
        pytest.param((10 * H, 10 * M), (10 * H + 5 * M, 11 * H), True, id="overlaps-same-day"),
        pytest.param((9 * H, 3 * H), (10 * H, 11 * H), True, id="spans-whole-interval"),
        pytest.param((10 * H, 10 * M), (10 * H + 30 * M, 11 * H), False, id="ended-before"),
        pytest.param((12 * H, 10 * M), (10 * H, 11 * H), False, id="starts-after"),
        pytest.param((-H, 2 * H), (30 * M, 2 * H), False, id="started-previous-day-overlaps"),
        pytest.param((-H, 2 * H), (-30 * M, 2 * H), True, id="interval-touches-previous-day"),
        pytest.param((10 * H, 10 * M), (0 * H, 24 * H), True, id="whole-day"),
    ],
)
def test_a_conversation_is_returned_when_it_overlaps_and_started_on_a_touched_day(
    emulator: RunningEmulator,
    call: tuple[dt.timedelta, dt.timedelta],
    interval: tuple[dt.timedelta, dt.timedelta],
    returned: bool,
) -> None:
    """Offsets are from yesterday's midnight: (call start, duration), (interval start, end)."""
    day = _midnight(emulator, 1)
    conversation_id = _inject(emulator, start=day + call[0], duration_s=call[1].total_seconds())
    with emulator.api() as api:
        ids = _ids(api, {"interval": _interval(day + interval[0], day + interval[1])})
    assert (conversation_id in ids) is returned


@pytest.mark.parametrize(
    ("start_hour", "end_hour"),
    [(0, 24), (12, 13), (23, 26), (6, 30)],
    ids=["one-day", "one-hour", "across-midnight", "more-than-a-day"],
)
def test_the_query_returns_exactly_the_ground_truth_conversations_of_the_interval(
    org: RunningEmulator, start_hour: int, end_hour: int
) -> None:
    day = _midnight(org, 3)
    start, end = day + start_hour * H, day + end_hour * H
    truth = org.ground_truth()
    expected = [c["conversation_id"] for c in _truth_in(truth, start, end)]
    with org.api() as api:
        ids = _ids(api, {"interval": _interval(start, end)})
    assert expected
    assert sorted(ids) == sorted(expected)


def test_total_hits_counts_every_match_whatever_the_page_size(org: RunningEmulator) -> None:
    day = _midnight(org, 2)
    interval = _interval(day, day + dt.timedelta(days=1))
    expected = len(_truth_in(org.ground_truth(), day, day + dt.timedelta(days=1)))
    with org.api() as api:
        hits = {
            _post(api, {"interval": interval, "paging": {"pageSize": size, "pageNumber": 1}})[
                "totalHits"
            ]
            for size in (1, 10, 100)
        }
    assert hits == {expected}


# -- paging and order ----------------------------------------------------------------------


def test_paging_returns_every_conversation_exactly_once_in_start_order(
    org: RunningEmulator,
) -> None:
    day = _midnight(org, 2)
    start, end = day + 12 * H, day + 18 * H
    truth = _truth_in(org.ground_truth(), start, end)
    with org.api() as api:
        conversations = _all_pages(api, {"interval": _interval(start, end)}, page_size=10)
    ids = [c["conversationId"] for c in conversations]
    assert len(truth) > 30  # several pages of 10
    assert len(ids) == len(set(ids)) == len(truth)
    assert set(ids) == {c["conversation_id"] for c in truth}
    starts = [_parse(c["conversationStart"]) for c in conversations]
    assert starts == sorted(starts)


def test_the_stats_count_the_conversations_the_pages_listed(org: RunningEmulator) -> None:
    day = _midnight(org, 2)
    start, end = day + 12 * H, day + 18 * H
    org.control("DELETE", "stats")
    with org.api() as api:
        conversations = _all_pages(api, {"interval": _interval(start, end)}, page_size=10)
        _all_pages(api, {"interval": _interval(start, start + H)}, page_size=10)
        once = len(conversations)
        again = len(_all_pages(api, {"interval": _interval(start, start + H)}, page_size=10))
    assert org.stats()["conversations_listed"] == once + 2 * again


def test_a_page_past_the_end_has_no_conversations_but_the_total(
    org: RunningEmulator,
) -> None:
    day = _midnight(org, 2)
    with org.api() as api:
        page = _post(
            api,
            {
                "interval": _interval(day + 12 * H, day + 13 * H),
                "paging": {"pageSize": 10, "pageNumber": 50},
            },
        )
    assert_valid(page, "AnalyticsConversationQueryResponse")
    assert "conversations" not in page
    assert 0 < page["totalHits"] < 500


def test_the_default_page_holds_25_conversations(org: RunningEmulator) -> None:
    day = _midnight(org, 2)
    with org.api() as api:
        page = _post(api, {"interval": _interval(day, day + dt.timedelta(days=1))})
    assert page["totalHits"] > 25
    assert len(page["conversations"]) == 25


def _start(conversation: Json) -> dt.datetime:
    return _parse(conversation["conversationStart"])


def _end(conversation: Json) -> dt.datetime:
    return _parse(conversation["conversationEnd"])


@pytest.mark.parametrize(
    ("order", "order_by", "key"),
    [
        ("asc", "conversationStart", _start),
        ("desc", "conversationStart", _start),
        ("asc", "conversationEnd", _end),
        ("desc", "conversationEnd", _end),
    ],
)
def test_order_and_order_by_sort_the_results(
    org: RunningEmulator,
    order: str,
    order_by: str,
    key: Callable[[Json], dt.datetime],
) -> None:
    day = _midnight(org, 2)
    interval = _interval(day + 9 * H, day + 15 * H)
    with org.api() as api:
        default = _all_pages(api, {"interval": interval})
        ordered = _all_pages(api, {"interval": interval, "order": order, "orderBy": order_by})
    keys = [key(c) for c in ordered]
    assert keys == sorted(keys, reverse=order == "desc")
    assert sorted(c["conversationId"] for c in ordered) == sorted(
        c["conversationId"] for c in default
    )
    assert len(set(keys)) > 10  # the order is not trivially satisfied


# -- limits and malformed requests ---------------------------------------------------------


PAGINATION = "Pagination may not exceed 100000 results."


@pytest.mark.parametrize(
    ("window", "paging", "code", "message"),
    [
        pytest.param((2, H), {"pageSize": 101, "pageNumber": 1}, "invalid.value", None, id="size"),
        pytest.param((10, 7 * 24 * H + M), None, "bad.request", None, id="longer-than-7-days"),
        pytest.param((36, H), None, "bad.request", None, id="starts-36-days-back"),
        pytest.param(
            (2, H), {"pageSize": 100, "pageNumber": 1001}, "bad.request", PAGINATION, id="100100"
        ),
        pytest.param(
            (2, H), {"pageSize": 25, "pageNumber": 4001}, "bad.request", PAGINATION, id="100025"
        ),
        pytest.param((2, H), {"pageSize": 0, "pageNumber": 1}, "bad.request", None, id="size-0"),
        pytest.param((2, H), {"pageSize": 10, "pageNumber": 0}, "bad.request", None, id="page-0"),
    ],
)
def test_a_query_beyond_the_documented_limits_is_refused_with_400(
    org: RunningEmulator,
    window: tuple[int, dt.timedelta],
    paging: Json | None,
    code: str,
    message: str | None,
) -> None:
    """`window` is (days back to the interval's start, its length)."""
    start = _midnight(org, window[0])
    body: Json = {"interval": _interval(start, start + window[1])}
    if paging is not None:
        body["paging"] = paging
    with org.api() as api:
        error = _assert_error(api.post(QUERY, json=body), 400, code)
    if message is not None:
        assert error["message"] == message


@pytest.mark.parametrize(
    ("window", "paging"),
    [
        pytest.param((2, H), {"pageSize": 100, "pageNumber": 1}, id="size-100"),
        pytest.param((8, 7 * 24 * H), None, id="exactly-7-days"),
        pytest.param((34, H), None, id="starts-34-days-back"),
        pytest.param((2, H), {"pageSize": 100, "pageNumber": 1000}, id="exactly-100000"),
    ],
)
def test_a_query_within_the_documented_limits_is_answered(
    org: RunningEmulator, window: tuple[int, dt.timedelta], paging: Json | None
) -> None:
    start = _midnight(org, window[0])
    body: Json = {"interval": _interval(start, start + window[1])}
    if paging is not None:
        body["paging"] = paging
    with org.api() as api:
        assert_valid(_post(api, body), "AnalyticsConversationQueryResponse")


@pytest.mark.parametrize(
    "interval",
    [
        "yesterday/today",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z/not-a-date",
        "2026-13-01T00:00:00Z/2026-13-02T00:00:00Z",
        None,
    ],
    ids=["words", "no-end", "bad-end", "month-13", "missing"],
)
def test_a_malformed_interval_is_refused_as_invalid_date(
    org: RunningEmulator, interval: str | None
) -> None:
    body: Json = {} if interval is None else {"interval": interval}
    with org.api() as api:
        _assert_error(api.post(QUERY, json=body), 400, "invalid.date")


def test_an_interval_ending_before_it_starts_is_refused_as_invalid_date(
    org: RunningEmulator,
) -> None:
    day = _midnight(org, 2)
    with org.api() as api:
        _assert_error(
            api.post(QUERY, json={"interval": _interval(day + H, day)}), 400, "invalid.date"
        )


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_declared_json_is_refused_with_415(
    org: RunningEmulator, content_type: str
) -> None:
    day = _midnight(org, 2)
    content = f'{{"interval": "{_interval(day, day + H)}"}}'
    with org.api() as api:
        response = api.post(QUERY, content=content, headers={"Content-Type": content_type})
    _assert_error(response, 415, "unsupported.media.type")


@pytest.mark.parametrize("content", ["{not json", "", "[1, 2]"], ids=["broken", "empty", "list"])
def test_a_body_that_is_not_a_json_object_is_refused_with_400(
    org: RunningEmulator, content: str
) -> None:
    with org.api() as api:
        response = api.post(QUERY, content=content, headers={"Content-Type": "application/json"})
    _assert_error(response, 400, "bad.request")


# -- filters -------------------------------------------------------------------------------

VOICE = {"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "voice"}
RECORDED = {"type": "dimension", "dimension": "recording", "operator": "exists"}


@pytest.mark.parametrize(
    ("predicates", "wanted"),
    [
        ([VOICE], lambda c: c["voice"]),
        ([RECORDED], lambda c: c["recorded"]),
        ([VOICE, RECORDED], lambda c: c["voice"] and c["recorded"]),
    ],
    ids=["voice", "recorded", "voice-and-recorded"],
)
def test_segment_filters_select_the_ground_truth_conversations(
    org: RunningEmulator, predicates: list[Json], wanted: Callable[[Json], bool]
) -> None:
    start, end = _midnight(org, 3), _midnight(org, 0)
    truth = _truth_in(org.ground_truth(), start, end)
    expected = sorted(c["conversation_id"] for c in truth if wanted(c))
    with org.api() as api:
        ids = _ids(
            api,
            {
                "interval": _interval(start, end),
                "segmentFilters": [{"type": "and", "predicates": predicates}],
            },
        )
    assert 0 < len(expected) < len(truth)
    assert sorted(ids) == expected


def test_the_voice_filter_leaves_out_chat_conversations(emulator: RunningEmulator) -> None:
    day = _midnight(emulator, 1)
    chat = _inject(emulator, start=day + 10 * H, duration_s=120, kind="chat")
    call = _inject(emulator, start=day + 10 * H, duration_s=120, kind="inbound")
    body: Json = {"interval": _interval(day + 10 * H, day + 11 * H)}
    with emulator.api() as api:
        everything = _ids(api, body)
        voice = _ids(api, {**body, "segmentFilters": [{"type": "and", "predicates": [VOICE]}]})
    assert {chat, call} <= set(everything)
    assert call in voice
    assert chat not in voice


def test_the_recording_filter_leaves_out_unrecorded_calls(emulator: RunningEmulator) -> None:
    day = _midnight(emulator, 1)
    unrecorded = _inject(emulator, start=day + 10 * H, duration_s=120, recorded=False)
    recorded = _inject(emulator, start=day + 10 * H, duration_s=120, recorded=True)
    body: Json = {"interval": _interval(day + 10 * H, day + 11 * H)}
    with emulator.api() as api:
        everything = _ids(api, body)
        kept = _ids(api, {**body, "segmentFilters": [{"type": "and", "predicates": [RECORDED]}]})
    assert {unrecorded, recorded} <= set(everything)
    assert recorded in kept
    assert unrecorded not in kept


@pytest.mark.parametrize("kind", ["and", "or"])
def test_conversation_filters_on_conversation_id_select_those_conversations(
    org: RunningEmulator, kind: str
) -> None:
    day = _midnight(org, 2)
    start, end = day, day + dt.timedelta(days=1)
    truth = _truth_in(org.ground_truth(), start, end)
    chosen = [truth[3]["conversation_id"], truth[-3]["conversation_id"]]
    predicates = [{"type": "dimension", "dimension": "conversationId", "value": i} for i in chosen]
    with org.api() as api:
        ids = _ids(
            api,
            {
                "interval": _interval(start, end),
                "conversationFilters": [{"type": kind, "predicates": predicates}],
            },
        )
    assert ids == ([] if kind == "and" else chosen)


def test_participants_carry_no_attributes_in_the_query(org: RunningEmulator) -> None:
    day = _midnight(org, 2)
    with org.api() as api:
        conversations = _all_pages(api, {"interval": _interval(day, day + dt.timedelta(days=1))})
    assert conversations
    assert not any("attributes" in p for c in conversations for p in c["participants"])


# -- conversations in progress -------------------------------------------------------------


def _open_query(emulator: RunningEmulator, conversation_id: str, around: dt.datetime) -> Json:
    body: Json = {
        "interval": _interval(around - M, around + M),
        "conversationFilters": [
            {
                "type": "and",
                "predicates": [{"dimension": "conversationId", "value": conversation_id}],
            }
        ],
    }
    with emulator.api() as api:
        page = _post(api, body)
    assert page["totalHits"] == 1
    conversation: Json = page["conversations"][0]
    return conversation


def _segments(conversation: Json) -> list[Json]:
    return [
        segment
        for participant in conversation["participants"]
        for session in participant["sessions"]
        for segment in session["segments"]
    ]


def test_a_conversation_in_progress_has_no_end_and_no_disconnect_type_on_open_segments(
    emulator: RunningEmulator,
) -> None:
    now = emulator.now()
    conversation_id = _inject(emulator, duration_s=3600, kind="inbound", agents=2)
    emulator.advance(1200)
    conversation = _open_query(emulator, conversation_id, now)
    assert "conversationEnd" not in conversation
    assert "mediaStatsMinConversationMos" not in conversation
    open_segments = [s for s in _segments(conversation) if "segmentEnd" not in s]
    assert open_segments
    assert all("disconnectType" not in s for s in open_segments)


def test_a_conversation_has_its_end_and_disconnect_types_once_the_clock_passes_its_end(
    emulator: RunningEmulator,
) -> None:
    now = emulator.now()
    conversation_id = _inject(emulator, duration_s=3600, kind="inbound", agents=2)
    emulator.advance(3601)
    conversation = _open_query(emulator, conversation_id, now)
    truth = {c["conversation_id"]: c for c in emulator.ground_truth()["conversations"]}
    assert conversation["conversationEnd"] == truth[conversation_id]["end"]
    assert all("segmentEnd" in s for s in _segments(conversation))
    for participant in conversation["participants"]:
        for session in participant["sessions"]:
            assert "disconnectType" in session["segments"][-1]


def test_participants_appear_only_once_they_have_joined(emulator: RunningEmulator) -> None:
    now = emulator.now()
    conversation_id = _inject(emulator, duration_s=3600, kind="inbound")
    joining = _open_query(emulator, conversation_id, now)
    emulator.advance(3601)
    ended = _open_query(emulator, conversation_id, now)
    assert all(s["segments"] for p in joining["participants"] for s in p["sessions"])
    assert "agent" not in [p["purpose"] for p in joining["participants"]]
    assert "agent" in [p["purpose"] for p in ended["participants"]]


# -- authentication and permissions --------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "authentication.required"),
        ({"Authorization": "Bearer not-a-token-we-issued"}, "bad.credentials"),
    ],
    ids=["no-bearer", "unknown-token"],
)
def test_a_request_without_a_valid_token_is_refused_with_401(
    org: RunningEmulator, headers: dict[str, str], code: str
) -> None:
    day = _midnight(org, 2)
    with org.client(headers=headers) as http:
        response = http.post(QUERY, json={"interval": _interval(day, day + H)})
    _assert_error(response, 401, code)


def test_a_client_without_the_analytics_permission_is_refused_with_403(
    emulator: RunningEmulator,
) -> None:
    emulator.control(
        "POST",
        "clients",
        json={
            "client_id": "recordings-only",
            "client_secret": "s3cret",
            "permissions": ["recording:recording:view"],
        },
    )
    day = _midnight(emulator, 2)
    with emulator.api(emulator.token("recordings-only", "s3cret")) as api:
        response = api.post(QUERY, json={"interval": _interval(day, day + H)})
    error = _assert_error(response, 403, "missing.permissions")
    assert "analytics:conversationDetail:view" in error["message"]
