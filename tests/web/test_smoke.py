"""The site answers: sign in, search, open a conversation, play its media."""

from __future__ import annotations

from tests.web.site import Site


async def test_an_agent_signs_in_searches_and_plays(site: Site) -> None:
    async with site.signed_in("jane") as client:
        page = await client.get("/conversations")
        assert page.status_code == 200
        assert "1 conversation" in page.text
        detail = await client.get(f"/conversations/{site.ids['c-jane']}")
        assert detail.status_code == 200, detail.text
        api = await client.get("/api/v1/conversations")
        assert api.json()["total"] == 1
        [item] = api.json()["items"]
        media = await client.get(
            item["recordings"][0]["media_url"], headers={"range": "bytes=0-99"}
        )
        assert media.status_code == 206
        assert media.content == site.media[:100]
