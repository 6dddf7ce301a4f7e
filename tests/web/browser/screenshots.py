"""Screenshots of the main pages for the documentation.

`python -m tests.web.browser.screenshots` seeds a site on a temporary SQLite database (the test
site's users and conversations, a few alerts, a policy with a day of runs), signs in as the
administrator in headless Chromium and saves a 1280 by 800 PNG of each page into
`docs/screenshots/`. A page the site does not have (404) is left out and said so.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from playwright.async_api import Page, async_playwright

from callarchive.secrets import SecretBox
from tests.web.browser import seeding
from tests.web.browser.chromium import launch, sign_in
from tests.web.site import Site

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
RUNS = 24  # hourly runs of the seeded policy
# file name, path ({id}: the analysed conversation)
PAGES = (
    ("conversations", "/conversations"),
    ("conversation", "/conversations/{id}"),
    ("import-sources", "/data/import-sources"),
    ("policies", "/data/policies"),
    ("users", "/users"),
    ("alerts", "/alerts"),
    ("status", "/status"),
    ("audit", "/audit"),
)
# kind, title, severity, state, message
ALERTS = (
    ("import_failed", "Conversation failed to import", "Error", "Active",
     "media of 2f0c8e1a answered 404 after 3 attempts"),
    ("retry_buffered", "CDR placed in retry buffer", "Warning", "Active",
     "9b41d2c7 is still in progress in Genesys"),
    ("timezone_unavailable", "Could not obtain timezone offsets", "Critical", "Acknowledged",
     "Mars/Olympus is not a time zone"),
)  # fmt: skip


async def shoot(page: Page, name: str) -> None:
    path = OUT / f"{name}.png"
    await page.screenshot(path=path)
    print(f"saved {path}")


async def shoot_pages(page: Page, conversation_id: int) -> None:
    await page.goto("/login")
    await shoot(page, "login")
    await sign_in(page, "admin")
    await page.wait_for_url("**/conversations")
    for name, path in PAGES:
        answer = await page.goto(path.format(id=conversation_id))
        if answer is None or answer.status == 404:
            print(f"left out {name}: {path} is not there")
            continue
        await shoot(page, name)


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        site = Site(
            database_url=f"sqlite:///{folder}/archive.db",
            media_folder=Path(folder) / "media",
            work_folder=Path(folder) / "work",
            box=SecretBox([SecretBox.generate_key()]),
        )
        await site.seed()
        conversation_id = await seeding.analysed_conversation(site, Path(folder))
        await seeding.alerts(site, ALERTS)
        await seeding.import_policy(site, imported=2 / 3, runs=RUNS)
        site.start()
        try:
            async with async_playwright() as playwright:
                browser = await launch(playwright)
                try:
                    context = await browser.new_context(base_url=site.url, viewport=VIEWPORT)
                    await shoot_pages(await context.new_page(), conversation_id)
                finally:
                    await browser.close()
        finally:
            site.stop()


if __name__ == "__main__":
    asyncio.run(main())
