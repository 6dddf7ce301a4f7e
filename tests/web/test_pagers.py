"""The pager of the paged lists (alerts, audit log): Previous and Next links that keep the
filters, and where the list stands."""

from __future__ import annotations

import re

import pytest

from callarchive.archive import AlertRecord
from tests.web.site import Site

ENTRIES = 60  # two pages of both lists at their default page size (50)


async def seed(site: Site) -> None:
    archive = site.archive()
    try:
        for n in range(ENTRIES):
            await archive.audit.record(actor="robot", action="recording_played", target=str(n))
            await archive.alerts.add(
                AlertRecord(
                    kind="import_failed",
                    title="Conversation failed to import",
                    severity="Error",
                    state="Active",
                    message=f"media 404 for c-{n}",
                )
            )
    finally:
        await archive.close()


def pager(page: str) -> dict[str, str]:
    """The pager's links by rel, and its position text."""
    nav = re.search(r'<nav class="pager"[^>]*>(.*?)</nav>', page, re.DOTALL)
    assert nav, "no pager"
    links = {
        rel: href.replace("&amp;", "&")
        for href, rel in re.findall(r'<a href="([^"]+)" rel="(prev|next)">', nav.group(1))
    }
    return {**links, "at": re.search(r"<span>(Page \d+ of \d+)</span>", nav.group(1)).group(1)}


@pytest.mark.parametrize(
    ("path", "query"),
    [("/alerts", "kind=import_failed"), ("/audit", "actor=robot")],
)
async def test_the_pager_links_the_next_and_previous_pages_with_the_same_filters(
    site: Site, path: str, query: str
) -> None:
    await seed(site)
    async with site.signed_in("admin") as client:
        first = pager((await client.get(f"{path}?{query}")).text)
        assert first["at"] == "Page 1 of 2"
        assert "prev" not in first
        assert "page=2" in first["next"]
        assert query in first["next"], first
        last = pager((await client.get(first["next"])).text)
        assert last["at"] == "Page 2 of 2"
        assert "next" not in last
        assert "page=1" in last["prev"] or "page=" not in last["prev"]
        short = (await client.get(f"{path}?{query}&page_size=100")).text
        assert 'class="pager"' not in short  # one page: no pager
