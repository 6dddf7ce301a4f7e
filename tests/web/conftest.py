"""Fixtures of the web tests: a seeded site served on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callarchive.secrets import SecretBox
from tests.web.site import Site


@pytest.fixture
async def site(database_url: str, box: SecretBox, tmp_path: Path) -> AsyncIterator[Site]:
    """A seeded site on the database under test, served while the test runs."""
    running = Site(database_url=database_url, media_folder=tmp_path / "media", box=box)
    await running.seed()
    running.start()
    yield running
    running.stop()
