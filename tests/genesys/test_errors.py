"""Status codes map completely onto the error tree; paging loops are caught.

These use an in-memory transport (httpx.MockTransport) to produce answers the emulator never
gives: every status code, a page that repeats, a cursor that comes back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import httpx
import pytest

from callarchive.clock import FakeClock
from callarchive.errors import (
    ConfigurationError,
    FatalError,
    PermissionDeniedError,
    RetryableError,
    SkipError,
)
from callarchive.genesys import (
    AuthenticationError,
    ConnectionSettings,
    DailyLimitError,
    GenesysClient,
    GenesysPermissionError,
    GenesysUnavailableError,
    NotFoundError,
    ProxyError,
    RequestRejectedError,
    ServerError,
    check_urls,
    connect,
)

Handler = Callable[[httpx.Request], httpx.Response]
START = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def genesys_answer(
    status: int, body: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status,
        json=body,
        headers={"ININ-Correlation-Id": "corr-1", **(headers or {})},
    )


def client_with(handler: Handler) -> GenesysClient:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(
                200, json={"access_token": "t", "token_type": "bearer", "expires_in": 3600}
            )
        return handler(request)

    settings = ConnectionSettings(
        auth_url="https://login.mypurecloud.com",
        api_url="https://api.mypurecloud.com",
        client_id="id",
        client_secret="secret",
    )
    return connect(settings, clock=FakeClock(), transport=httpx.MockTransport(route))


@pytest.mark.parametrize(
    ("status", "headers", "error", "branch"),
    [
        (400, {}, RequestRejectedError, FatalError),
        (401, {}, AuthenticationError, FatalError),
        (403, {}, GenesysPermissionError, PermissionDeniedError),
        (404, {}, NotFoundError, SkipError),
        (415, {}, RequestRejectedError, FatalError),
        (429, {"Retry-After": "1"}, GenesysUnavailableError, RetryableError),
        (429, {"Retry-After": "3600"}, DailyLimitError, FatalError),
        (500, {}, ServerError, SkipError),
        (502, {}, GenesysUnavailableError, RetryableError),
        (503, {}, GenesysUnavailableError, RetryableError),
        (504, {}, GenesysUnavailableError, RetryableError),
    ],
)
async def test_status_maps_to_the_error_tree(
    status: int, headers: dict[str, str], error: type[Exception], branch: type[Exception]
) -> None:
    body = {"message": "boom", "code": "some.code", "status": status, "contextId": "corr-1"}
    async with client_with(lambda _: genesys_answer(status, body, headers)) as client:
        with pytest.raises(error) as raised:
            await client.user("u1")
    assert isinstance(raised.value, branch)
    text = str(raised.value)
    assert "GET /api/v2/users/{userId}" in text
    assert f"status {status}" in text
    assert "corr-1" in text
    assert "secret" not in text


async def test_a_401_that_is_not_from_genesys_points_at_the_proxy() -> None:
    async with client_with(lambda _: httpx.Response(401, text="<html>auth</html>")) as client:
        with pytest.raises(ProxyError, match="forward proxy"):
            await client.user("u1")


async def test_a_repeating_page_is_a_paging_loop_not_an_endless_loop() -> None:
    page = {
        "conversations": [{"conversationId": "c1", "conversationStart": "2026-05-01T00:00:00Z"}],
        "totalHits": 500,
    }
    async with client_with(lambda _: genesys_answer(200, page)) as client:
        with pytest.raises(GenesysUnavailableError, match="paging loop"):
            [_ async for _ in client.query_conversations(START, START + dt.timedelta(hours=1))]


async def test_query_stops_at_total_hits_even_if_pages_keep_coming() -> None:
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        number = json.loads(request.content)["paging"]["pageNumber"]
        calls.append(number)
        conversation = {"conversationId": f"c{number}", "conversationStart": "2026-05-01T00:00:00Z"}
        return genesys_answer(200, {"conversations": [conversation], "totalHits": 2})

    async with client_with(answer) as client:
        found = [
            c
            async for c in client.query_conversations(
                START, START + dt.timedelta(hours=1), page_size=1
            )
        ]
    assert [c.conversation_id for c in found] == ["c1", "c2"]
    assert calls == [1, 2]


async def test_a_repeating_cursor_is_a_paging_loop() -> None:
    page = {
        "conversations": [{"conversationId": "c1", "conversationStart": "2026-05-01T00:00:00Z"}],
        "cursor": "same",
    }
    async with client_with(lambda _: genesys_answer(200, page)) as client:
        with pytest.raises(GenesysUnavailableError, match="cursor repeats"):
            [_ async for _ in client.details_job_results("job")]


async def test_a_body_that_never_parses_becomes_retryable_after_a_few_asks() -> None:
    asked = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, text='{"id": ', headers={"ININ-Correlation-Id": "c"})

    async with client_with(answer) as client:
        with pytest.raises(GenesysUnavailableError, match="does not match the API model"):
            await client.user("u1")
    assert len(asked) == 5


async def test_missing_fields_are_rejected_and_unknown_ones_ignored() -> None:
    async with client_with(
        lambda _: genesys_answer(200, {"id": "u1", "brandNewField": {"x": 1}})
    ) as client:
        user = await client.user("u1")
    assert user.id == "u1"
    async with client_with(lambda _: genesys_answer(200, {"name": "no id"})) as client:
        with pytest.raises(GenesysUnavailableError):
            await client.user("u1")


@pytest.mark.parametrize(
    ("auth_url", "api_url", "field"),
    [
        ("http://login.mypurecloud.com", "https://api.mypurecloud.com", "auth_url"),
        ("https://login.mypurecloud.com", "ftp://api.mypurecloud.com", "api_url"),
        ("https://login.mypurecloud.com", "https://api.mypurecloud.com?x=1", "api_url"),
        ("not a url", "https://api.mypurecloud.com", "auth_url"),
    ],
)
def test_urls_must_be_https_except_on_loopback(auth_url: str, api_url: str, field: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        check_urls(auth_url, api_url)
    assert raised.value.field == field


def test_region_warnings() -> None:
    assert check_urls("https://login.mypurecloud.ie", "https://api.mypurecloud.ie") == []
    assert check_urls("http://127.0.0.1:8750", "http://127.0.0.1:8750") == []
    [mixed] = check_urls("https://login.mypurecloud.ie", "https://api.mypurecloud.de")
    assert "region" in mixed
    [unknown] = check_urls("https://login.mypurecloud.com", "https://api.example.com")
    assert "not a known Genesys Cloud API host" in unknown
