"""The conversations pages in Chromium: search, open a conversation, play its recording."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from tests.web.browser.chromium import sign_in
from tests.web.browser.seeding import analysed_conversation
from tests.web.site import CALLS, Site

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def signed_in(page: Page) -> Page:
    """The page, signed in as the administrator (who sees every conversation)."""
    await page.goto("/login")
    await sign_in(page, "admin")
    await expect(page.locator("#result-count")).to_have_text(f"{len(CALLS)} conversations")
    return page


async def test_a_search_shows_the_count_and_the_matching_rows(signed_in: Page) -> None:
    page = signed_in
    await page.get_by_label("User (login)").fill("jane")
    await page.get_by_role("button", name="Search").click()
    await expect(page).to_have_url(re.compile(r"user=jane"))
    await expect(page.locator("#result-count")).to_have_text("1 conversation")
    rows = page.locator("#results tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Jane")


async def test_a_search_without_matches_says_so(signed_in: Page) -> None:
    page = signed_in
    await page.get_by_label("Genesys conversation id").fill("no-such-call")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#result-count")).to_have_text("0 conversations")
    await expect(page.locator("#results tbody")).to_contain_text("No conversations match.")


async def test_a_conversation_opens_from_its_row(signed_in: Page, site: Site) -> None:
    page = signed_in
    await page.get_by_label("Genesys conversation id").fill("c-lead")
    await page.get_by_role("button", name="Search").click()
    await page.locator("#results tbody tr a").first.click()
    await expect(page).to_have_url(re.compile(rf"/conversations/{site.ids['c-lead']}$"))
    await expect(page.locator("#metadata")).to_contain_text("c-lead")
    await expect(page.locator(".player")).to_have_count(1)


async def test_the_recording_plays(signed_in: Page, site: Site) -> None:
    page = signed_in
    await page.goto(f"/conversations/{site.ids['c-jane']}")
    audio = page.locator(".player audio")
    assert await audio.evaluate("audio => audio.paused")
    box = await audio.bounding_box()
    assert box is not None
    await audio.click(position={"x": 24, "y": box["height"] / 2})  # the controls' play button
    await page.wait_for_function(
        """() => {
            const audio = document.querySelector(".player audio");
            return Number.isFinite(audio.duration) && audio.currentTime > 0.5;
        }"""
    )
    duration = await audio.evaluate("audio => audio.duration")
    assert duration == pytest.approx(3.0, abs=0.05)


async def test_the_playhead_follows_the_recording_and_a_click_seeks(
    signed_in: Page, site: Site, tmp_path: Path
) -> None:
    page = signed_in
    await page.goto(f"/conversations/{await analysed_conversation(site, tmp_path)}")
    waveform = page.locator(".player .waveform")
    await expect(waveform.locator("svg")).to_be_visible()
    await page.locator(".player audio").evaluate("audio => audio.play()")
    await page.wait_for_function(
        """() => parseFloat(document.querySelector(".waveform .playhead").style.left) > 10"""
    )
    await page.locator(".player audio").evaluate("audio => audio.pause()")
    box = await waveform.bounding_box()
    assert box is not None
    await waveform.click(position={"x": box["width"] * 0.25, "y": box["height"] / 2})
    position = await page.locator(".player audio").evaluate("audio => audio.currentTime")
    assert position == pytest.approx(0.75, abs=0.1)
