"""Searching by the audio analysis: silence ratio, talk-over ratio and longest silence."""

from __future__ import annotations

import datetime as dt

from tests.archive.builders import conversation
from tests.web.site import Site


async def test_the_analysis_fields_narrow_a_search_in_page_and_api(site: Site) -> None:
    assert site.source is not None
    archive = site.archive()
    try:
        for n, (silence, talkover, longest) in enumerate([(0.1, 0.02, 1.5), (0.6, 0.2, 12.0)]):
            await archive.conversations.save(
                conversation(
                    site.source.id or 0,
                    f"c-analysed-{n}",
                    start=dt.datetime(2026, 11, 22, 10, n, tzinfo=dt.UTC),
                    user_login="jane",
                    silence_ratio=silence,
                    talkover_ratio=talkover,
                    longest_silence=longest,
                    recordings=(),
                )
            )
    finally:
        await archive.close()

    async with site.signed_in("jane") as client:

        async def found(**params: str) -> set[str]:
            answer = await client.get("/api/v1/conversations", params=params)
            assert answer.status_code == 200, answer.text
            return {item["genesys_id"] for item in answer.json()["items"]}

        assert await found(min_silence_ratio="0.5") == {"c-analysed-1"}
        assert await found(max_talkover_ratio="0.05") == {"c-analysed-0"}
        assert await found(min_longest_silence="10", max_longest_silence="20") == {"c-analysed-1"}
        page = await client.get("/conversations", params={"max_silence_ratio": "0.3"})
        assert "1 conversation" in page.text
        refused = await client.get("/api/v1/conversations", params={"min_silence_ratio": "1.5"})
        assert refused.status_code == 422
        assert refused.json()["field"] == "min_silence_ratio"
        shown = await client.get("/conversations", params={"max_talkover_ratio": "abc"})
        assert shown.status_code == 422
        assert "is not a ratio from 0 to 1" in shown.text
