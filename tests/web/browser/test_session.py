"""Signing in through the form, in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.web.browser.chromium import sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_page_asks_for_sign_in_and_opens_after_it(page: Page) -> None:
    await page.goto("/conversations?user=jane")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await sign_in(page, "admin")
    await expect(page).to_have_url(re.compile(r"/conversations\?user=jane$"))
    await expect(page.locator("#result-count")).to_have_text("1 conversation")
    await expect(page.locator("header .who")).to_contain_text("Admin")


async def test_a_wrong_password_shows_the_error_on_the_form(page: Page) -> None:
    await page.goto("/login")
    await sign_in(page, "admin", "not the password")
    await expect(page.get_by_role("alert")).to_have_text("Wrong login or password.")
    await expect(page.get_by_label("Login")).to_have_value("admin")
