"""Headless Chromium for the browser tests and the screenshots: Debian's `/usr/bin/chromium`,
which the Makefile's `debian` target installs; Playwright never downloads a browser here."""

from __future__ import annotations

from playwright.async_api import Browser, Page, Playwright

from tests.web.site import PASSWORD

EXECUTABLE = "/usr/bin/chromium"
ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # the player test presses play without a real user's gesture
    "--autoplay-policy=no-user-gesture-required",
)


async def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless."""
    return await playwright.chromium.launch(executable_path=EXECUTABLE, args=list(ARGS))


async def sign_in(page: Page, login: str, password: str = PASSWORD) -> None:
    """Sign in through the form of the sign-in page the browser is on."""
    await page.get_by_label("Login").fill(login)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
