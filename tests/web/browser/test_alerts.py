"""Alerts in Chromium: an administrator acknowledges an active alert."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.web.browser import seeding
from tests.web.browser.chromium import sign_in
from tests.web.site import Site

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_an_administrator_acknowledges_an_alert(page: Page, site: Site) -> None:
    [alert_id] = await seeding.alerts(
        site,
        (("import_failed", "Conversation failed to import", "Error", "Active", "media 404"),),
    )
    await page.goto("/alerts")
    await sign_in(page, "admin")
    row = page.locator(f'#alerts tr[data-alert="{alert_id}"]')
    await expect(row.locator(".state")).to_have_text("Active")
    await row.get_by_role("button", name="Acknowledge").click()
    await expect(row.locator(".state")).to_have_text("Acknowledged")
    await expect(row.get_by_role("button", name="Acknowledge")).to_have_count(0)
    await expect(row.get_by_role("button", name="Clear")).to_be_visible()
