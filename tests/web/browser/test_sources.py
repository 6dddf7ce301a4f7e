"""Data > Import Sources in Chromium: an invalid value is shown next to its field."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.configuration.builders import source_items
from tests.web.browser.chromium import sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHOICES = {"codec"}


async def test_an_invalid_value_is_shown_next_to_its_field(page: Page) -> None:
    await page.goto("/login")
    await sign_in(page, "admin")
    await page.get_by_text("Data", exact=True).click()
    await page.get_by_role("link", name="Import Sources").click()
    await page.get_by_role("link", name="Add New Import Source").click()
    await expect(page).to_have_url(re.compile(r"/data/import-sources/new$"))
    for name, value in source_items(name="Dallas", recording_timezone="Mars/Olympus").items():
        field = page.locator(f"#input-{name}")
        await (field.select_option(value) if name in CHOICES else field.fill(value))
    await page.get_by_role("button", name="Save").click()

    timezone = page.locator("#field-recording_timezone")
    await expect(timezone).to_have_class(re.compile(r"\binvalid\b"))
    await expect(timezone.locator(".field-error")).to_contain_text("Mars/Olympus")
    await expect(page.locator(".field-error")).to_have_count(1)
    await expect(page.locator("#input-name")).to_have_value("Dallas")
    await expect(page.locator("#input-client_secret")).to_have_value("")
