"""A NUL character anywhere in a request is refused with 422 naming its field, on SQLite and
PostgreSQL alike (PostgreSQL's text cannot hold one); ids in bodies stay within 64 bits."""

from __future__ import annotations

import pytest

from tests.web.site import Site, csrf_of

# method, path, form or JSON body, the field named
NUL_REQUESTS = (
    ("GET", "/api/v1/extensions?user=ja%00ne", None, "user"),
    ("GET", "/api/v1/conversations?number=%2B1%00", None, "number"),
    ("GET", "/api/v1/policies/U%00S", None, "name"),
    ("POST", "/api/v1/holds", {"json": {"name": "Case 1", "reason": "matter\x007"}}, "reason"),
)  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "field"), NUL_REQUESTS)
async def test_a_nul_character_is_refused_with_its_field(
    site: Site, method: str, path: str, body: dict[str, object] | None, field: str
) -> None:
    async with site.signed_in("admin") as client:
        token = csrf_of((await client.get("/account")).text)
        answer = await client.request(method, path, headers={"x-csrf-token": token}, **(body or {}))
    assert answer.status_code == 422, answer.text
    if path.startswith("/api/"):
        assert answer.json()["field"] == field


async def test_signing_in_with_a_nul_character_is_refused(site: Site) -> None:
    async with site.client() as client:
        page = await client.get("/login")
        answer = await client.post(
            "/login",
            data={"login": "ad\x00min", "password": "x", "csrf_token": csrf_of(page.text)},
        )
    assert answer.status_code == 422
    assert "NUL" in answer.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/holds", {"name": "Case 1", "reason": "matter 7", "conversation_ids": [2**70]}),
        ("/api/v1/holds/1/conversations", {"conversation_ids": [2**70]}),
    ],
)
async def test_a_conversation_id_beyond_64_bits_is_refused(
    site: Site, path: str, body: dict[str, object]
) -> None:
    async with site.signed_in("admin") as client:
        token = csrf_of((await client.get("/account")).text)
        answer = await client.post(
            path,
            headers={"x-csrf-token": token},
            json=body,
        )
    assert answer.status_code == 422, answer.text
