"""Fixtures of the browser tests: one headless Chromium per session, a fresh page per test, and
the seeded site on SQLite only (the browser checks pages, the databases are tested elsewhere).

The browser lives on the session's event loop, so the tests run there too: every module of
this package sets `pytestmark = pytest.mark.asyncio(loop_scope="session")`.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from tests.web.browser.chromium import launch
from tests.web.site import Site


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite database: the browser tests' site runs on SQLite only."""
    path = tmp_path / "archive.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium (Debian's, never a downloaded one), for the whole session."""
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, site: Site) -> AsyncIterator[Page]:
    """A new page of a new browser context (no cookies), 1280 by 800, on the site."""
    context = await browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()
