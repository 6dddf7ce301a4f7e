"""The Status page's Completeness section: each import's newest reconciled days with their
share, counts and missing conversations."""

from __future__ import annotations

import re

from callarchive.configuration import Policy
from tests.web.site import Site
from tests.web.test_reconciliation_api import DAY, seed_days, seed_retention_day


async def test_the_status_page_shows_each_days_completeness_and_what_is_missing(
    site: Site,
) -> None:
    await seed_days(site)
    async with site.signed_in("officer") as client:
        page = (await client.get("/status")).text
    section = page[page.index("<h3>Completeness</h3>") : page.index("<h3>Last errors</h3>")]
    days = re.findall(r'<tr class="day[^"]*"><td>([0-9-]+)</td>', section)
    assert days[0] == DAY.isoformat()
    assert len(days) == 2
    assert "100.0 %" in section
    assert "80.0 %" in section
    assert "lost-0" in section
    assert "lost-1" in section
    assert 'class="day error"' in section  # the day with missing conversations stands out


async def test_without_reconciled_days_the_section_says_so(site: Site) -> None:
    archive = site.archive()
    try:
        assert site.source is not None
        await archive.policies.add(
            Policy(name="Fresh", import_sources=(site.source.name,)), actor="t"
        )
    finally:
        await archive.close()
    async with site.signed_in("admin") as client:
        page = (await client.get("/status")).text
    assert "No day reconciled yet." in page


async def test_the_status_page_shows_what_retention_deleted_as_accounted_for(
    site: Site,
) -> None:
    await seed_retention_day(site)
    async with site.signed_in("officer") as client:
        page = (await client.get("/status")).text
    section = page[page.index("<h3>Completeness</h3>") : page.index("<h3>Last errors</h3>")]
    assert "<th>Deleted by retention</th>" in section
    assert '<td class="num retention">5</td>' in section
    assert "100.0 %" in section
    assert 'class="day error"' not in section
