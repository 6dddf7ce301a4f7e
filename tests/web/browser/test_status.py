"""Status in Chromium: an import's catch-up progress bar is drawn to its share."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.web.browser.chromium import sign_in
from tests.web.browser.seeding import import_policy
from tests.web.site import Site

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_progress_bar_shows_the_share_of_history_imported(page: Page, site: Site) -> None:
    await import_policy(site, imported=0.5)
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
