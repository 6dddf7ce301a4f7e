"""Screenshots of the main pages for the documentation.

`python -m tests.web.browser.screenshots` seeds a site on a temporary SQLite database (the test
site's users and conversations, a few alerts, a policy with a day of runs), signs in as the
administrator in headless Chromium and saves a 1280 by 800 PNG of each page into
`docs/screenshots/`. A page the site does not have (404) is left out and said so.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from pathlib import Path

from playwright.async_api import Page, async_playwright

from callarchive.archive import AlertRecord, BatchReport, pair_folders
from callarchive.configuration import Policy
from callarchive.imports import Cursor
from callarchive.secrets import SecretBox
from tests.web.browser.chromium import launch, sign_in
from tests.web.site import Site

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
RUNS = 24  # hourly runs of the seeded policy
# file name, path ({id}: the conversation shown)
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


async def seed_operations(site: Site) -> None:
    """Alerts, and a policy importing the site's source: a day of hourly runs, the cursor two
    thirds of the way through the history."""
    assert site.source is not None
    now = site.clock.now()
    start = site.source.recording_start
    cursor = start + (now - start) * 2 / 3
    archive = site.archive()
    try:
        for kind, title, severity, state, message in ALERTS:
            await archive.alerts.add(
                AlertRecord(kind=kind, title=title, severity=severity, state=state, message=message)
            )
        policy = await archive.policies.add(
            Policy(name="US", import_sources=(site.source.name,)), actor="admin"
        )
        pair = (policy.id or 0, site.source.id or 0)
        for hours_ago in range(RUNS, 0, -1):
            finished = now - dt.timedelta(hours=hours_ago)
            window_end = cursor - (now - cursor) * hours_ago / RUNS / 4
            await archive.batch_reports.add(
                BatchReport(
                    policy_id=pair[0],
                    import_source_id=pair[1],
                    started_at=finished - dt.timedelta(minutes=7),
                    finished_at=finished,
                    window_start=window_end - dt.timedelta(hours=2),
                    window_end=window_end,
                    server="node-1",
                    imported=40 + (hours_ago * 37) % 60,
                )
            )
    finally:
        await archive.close()
    folders = pair_folders(*pair)
    await site.work().put(
        folders.cursor, Cursor(position=cursor, conversation_id="c-last").render().encode()
    )


async def shoot(page: Page, name: str) -> None:
    path = OUT / f"{name}.png"
    await page.screenshot(path=path)
    print(f"saved {path}")


async def shoot_pages(site: Site, page: Page) -> None:
    await page.goto("/login")
    await shoot(page, "login")
    await sign_in(page, "admin")
    await page.wait_for_url("**/conversations")
    for name, path in PAGES:
        answer = await page.goto(path.format(id=site.ids["c-jane"]))
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
        await seed_operations(site)
        site.start()
        try:
            async with async_playwright() as playwright:
                browser = await launch(playwright)
                try:
                    context = await browser.new_context(base_url=site.url, viewport=VIEWPORT)
                    await shoot_pages(site, await context.new_page())
                finally:
                    await browser.close()
        finally:
            site.stop()


if __name__ == "__main__":
    asyncio.run(main())
