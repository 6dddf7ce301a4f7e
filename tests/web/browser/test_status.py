"""Status in Chromium: an import's catch-up progress bar is drawn to its share."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from callarchive.archive import pair_folders
from callarchive.configuration import Policy
from callarchive.imports import Cursor
from tests.web.browser.chromium import sign_in
from tests.web.site import Site

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def seed_half_way(site: Site) -> None:
    """A policy importing the site's source, its cursor half way from the start to now."""
    assert site.source is not None
    archive = site.archive()
    try:
        policy = await archive.policies.add(
            Policy(name="US", import_sources=(site.source.name,)), actor="test"
        )
    finally:
        await archive.close()
    start = site.source.recording_start
    cursor = Cursor(position=start + (site.clock.now() - start) / 2, conversation_id="c-half")
    folders = pair_folders(policy.id or 0, site.source.id or 0)
    await site.work().put(folders.cursor, cursor.render().encode())


async def test_the_progress_bar_shows_the_share_of_history_imported(page: Page, site: Site) -> None:
    await seed_half_way(site)
    await page.goto("/status")
    await sign_in(page, "admin")
    bar = page.get_by_role("img", name=re.compile(r"^History imported: "))
    await expect(bar).to_have_accessible_name("History imported: 50.0%")
    await expect(page.locator(".pair .fraction")).to_have_text("50.0 %")
    outer, done = await bar.bounding_box(), await bar.locator(".done").bounding_box()
    assert outer is not None
    assert done is not None
    assert outer["width"] > 100
    assert done["width"] / outer["width"] == pytest.approx(0.5, abs=0.01)
