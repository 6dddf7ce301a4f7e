"""The access matrix (DESIGN.md section 6) over the API, the pages and the media URLs.

Each role sees exactly its recordings; anything else answers 404, as if it did not exist, in
search results, detail pages, API objects, playback and downloads alike.
"""

from __future__ import annotations

import httpx
import pytest

from tests.web.site import CALLS, Site

EVERYTHING = {genesys_id for genesys_id, _, _ in CALLS}
MATRIX = {
    "admin": EVERYTHING,
    "officer": EVERYTHING,
    "boss": {"c-boss", "c-lead", "c-jane"},  # self and everyone below, transitively
    "lead": {"c-lead", "c-jane"},
    "jane": {"c-jane"},  # an agent sees only her own
    "joe": {"c-joe"},
    "pat": {"c-joe"},  # granted the partition "sales" of joe's call
}


async def _api_ids(client: httpx.AsyncClient) -> set[str]:
    answer = await client.get("/api/v1/conversations", params={"page_size": 100})
    assert answer.status_code == 200, answer.text
    return {item["genesys_id"] for item in answer.json()["items"]}


@pytest.mark.parametrize("login", sorted(MATRIX))
async def test_each_role_finds_exactly_its_recordings(shared_site: Site, login: str) -> None:
    async with shared_site.signed_in(login) as client:
        assert await _api_ids(client) == MATRIX[login]
        page = await client.get("/conversations")
        assert f"{len(MATRIX[login])} conversation" in page.text


@pytest.mark.parametrize("login", sorted(MATRIX))
async def test_what_is_out_of_scope_is_not_found_everywhere(shared_site: Site, login: str) -> None:
    async with shared_site.signed_in(login) as client:
        for genesys_id, conversation_id in shared_site.ids.items():
            media = f"/api/v1/conversations/{conversation_id}/recordings/{genesys_id}-r1/WAV/media"
            urls = [
                f"/conversations/{conversation_id}",
                f"/api/v1/conversations/{conversation_id}",
                media,
                media + "?download=1",
            ]
            expected = 200 if genesys_id in MATRIX[login] else 404
            for url in urls:
                answer = await client.get(url)
                assert answer.status_code == expected, (login, url)
            if expected == 404:
                assert shared_site.media[:200] not in (await client.get(media)).content


async def test_a_missing_conversation_answers_like_a_hidden_one(shared_site: Site) -> None:
    async with shared_site.signed_in("jane") as client:
        hidden = await client.get(f"/api/v1/conversations/{shared_site.ids['c-joe']}")
        missing = await client.get("/api/v1/conversations/999999")
        assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


@pytest.mark.parametrize(
    "path",
    [
        "/conversations",
        "/api/v1/conversations",
        "/api/v1/me",
        "/api/v1/conversations/1/recordings/c-jane-r1/WAV/media",
    ],
)
async def test_nothing_is_served_without_signing_in(shared_site: Site, path: str) -> None:
    async with shared_site.client() as client:
        answer = await client.get(path)
    if path.startswith("/api/"):
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
    else:
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("recording", "codec"),
    [
        ("..%2F..%2F..%2Fetc%2Fpasswd", "WAV"),
        ("c-jane-r1", "..%2F..%2Fsecret"),
        ("c-jane-r1", "MP3"),
        ("%2e%2e", "WAV"),
        ("c-joe-r1", "WAV"),
    ],
)
async def test_media_urls_name_only_the_conversations_own_recordings(
    shared_site: Site, recording: str, codec: str
) -> None:
    async with shared_site.signed_in("jane") as client:
        jane = shared_site.ids["c-jane"]
        url = f"/api/v1/conversations/{jane}/recordings/{recording}/{codec}/media"
        answer = await client.get(url)
    assert answer.status_code == 404


async def test_playback_and_download_are_written_to_the_audit_log(shared_site: Site) -> None:
    async def audit_of_boss() -> list[str]:
        archive = shared_site.archive()
        try:
            return [e.action for e in await archive.audit.list(limit=10_000) if e.actor == "boss"]
        finally:
            await archive.close()

    before = await audit_of_boss()
    async with shared_site.signed_in("boss") as client:
        media = f"/api/v1/conversations/{shared_site.ids['c-jane']}/recordings/c-jane-r1/WAV/media"
        played = await client.get(media, headers={"range": "bytes=0-"})
        seeked = await client.get(media, headers={"range": "bytes=1000-1999"})
        downloaded = await client.get(media + "?download=1")
    assert (played.status_code, seeked.status_code, downloaded.status_code) == (206, 206, 200)
    assert seeked.content == shared_site.media[1000:2000]
    assert seeked.headers["content-range"] == f"bytes 1000-1999/{len(shared_site.media)}"
    assert downloaded.content == shared_site.media
    assert "attachment" in downloaded.headers["content-disposition"]
    new = (await audit_of_boss())[: -len(before) or None]
    assert sorted(new) == ["recording_downloaded", "recording_played", "signed_in"]


async def test_a_range_past_the_end_is_not_satisfiable(shared_site: Site) -> None:
    async with shared_site.signed_in("jane") as client:
        media = f"/api/v1/conversations/{shared_site.ids['c-jane']}/recordings/c-jane-r1/WAV/media"
        answer = await client.get(media, headers={"range": f"bytes={len(shared_site.media)}-"})
    assert answer.status_code == 416
    assert answer.headers["content-range"] == f"bytes */{len(shared_site.media)}"
