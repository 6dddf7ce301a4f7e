"""Fault profiles of bad answers (not part of `chaos`): JSON with mistyped fields, a web page in
place of JSON or audio, details query pages that are empty or never end, user pages that never
end, media of gigabytes, a media host that never answers. Each at rate 1.0 fires every time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from tests.emulator.conftest import EmulatorFactory
from tests.emulator.harness import RunningEmulator, assert_valid
from tests.emulator.test_faults import USERS, _get, _media_url

QUERY = "/api/v2/analytics/conversations/details/query"


def faulty(make_emulator: EmulatorFactory, profile: str) -> tuple[RunningEmulator, str, str]:
    """An emulator, a token, a media URL (fetched before), then `profile` switched on."""
    emulator = make_emulator()
    token = emulator.token()
    url = _media_url(emulator, token)
    emulator.control("POST", "faults", json={"profile": profile})
    return emulator, token, url


def query(emulator: RunningEmulator, token: str, number: int) -> dict[str, Any]:
    start = emulator.config.start
    end = start + dt.timedelta(days=1)
    body = {"interval": f"{start}T00:00:00Z/{end}T00:00:00Z", "paging": {"pageSize": 100,
            "pageNumber": number}}  # fmt: skip
    with emulator.api(token) as api:
        response = api.post(QUERY, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_mistyped_fields_answer_200_with_json_of_wrong_types(make_emulator: EmulatorFactory):
    emulator, token, _ = faulty(make_emulator, "mistyped-fields:1.0")
    response = _get(emulator, token)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["totalHits"], str)
    assert isinstance(body["entities"], int)


def test_wrong_content_type_answers_a_web_page_to_api_and_media(make_emulator: EmulatorFactory):
    emulator, token, url = faulty(make_emulator, "wrong-content-type:1.0")
    api = _get(emulator, token)
    with httpx.Client(timeout=30) as http:
        media = http.get(url)
    for response in (api, media):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert b"<html>" in response.content


def test_empty_pages_answer_no_conversations_but_count_them(make_emulator: EmulatorFactory):
    emulator = make_emulator()
    token = emulator.token()
    healthy = query(emulator, token, 1)
    assert healthy["totalHits"] > 0
    emulator.control("POST", "faults", json={"profile": "empty-pages:1.0"})
    page = query(emulator, token, 1)
    assert page["totalHits"] == healthy["totalHits"]
    assert "conversations" not in page


def test_no_total_hits_leaves_the_count_out_of_valid_pages(make_emulator: EmulatorFactory):
    emulator = make_emulator()
    token = emulator.token()
    healthy = query(emulator, token, 1)
    emulator.control("POST", "faults", json={"profile": "no-total-hits"})
    page = query(emulator, token, 1)
    assert "totalHits" not in page
    assert page["conversations"] == healthy["conversations"]
    assert_valid(page, "AnalyticsConversationQueryResponse")


def test_endless_paging_repeats_the_last_page_and_always_has_a_next_user_page(
    make_emulator: EmulatorFactory,
):
    emulator = make_emulator()
    token = emulator.token()
    emulator.control("POST", "faults", json={"profile": "endless-paging:1.0"})
    pages = [query(emulator, token, number) for number in (50, 51, 999)]
    assert {page["totalHits"] for page in pages} == {1_000_000}
    assert pages[0]["conversations"] == pages[1]["conversations"] == pages[2]["conversations"]
    users = _get(emulator, token, USERS + "&pageNumber=100000").json()
    assert users["entities"] == []
    assert users["nextUri"]


def test_oversized_media_announces_and_streams_gigabytes(make_emulator: EmulatorFactory):
    _, _, url = faulty(make_emulator, "oversized-media:1.0")
    with httpx.Client(timeout=30) as http, http.stream("GET", url) as response:
        assert response.status_code == 200
        assert int(response.headers["content-length"]) > 4 * 1024**3 - 1024**2
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > 8 * 1024**2:
                break
    assert received > 8 * 1024**2


def test_hanging_media_never_answers_within_the_clients_timeout(make_emulator: EmulatorFactory):
    _, _, url = faulty(make_emulator, "hanging-media:1.0")
    with httpx.Client(timeout=0.5) as http, pytest.raises(httpx.ReadTimeout):
        http.get(url)


def test_bad_answers_are_not_part_of_chaos(emulator: RunningEmulator):
    emulator.control("POST", "faults", json={"profile": "chaos"})
    profile = emulator.control("GET", "faults")["profile"]
    bad = {"mistyped-fields", "wrong-content-type", "empty-pages", "endless-paging",
           "no-total-hits", "oversized-media", "hanging-media"}  # fmt: skip
    assert not bad & {part.split(":")[0] for part in profile.split(",")}
