"""Fixtures of the web tests: a seeded site served on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from callarchive.secrets import SecretBox
from tests.archive.fixtures import BACKENDS, empty_postgres
from tests.web.site import Site


@pytest.fixture
async def site(database_url: str, box: SecretBox, tmp_path: Path) -> AsyncIterator[Site]:
    """A seeded site on the database under test, served while the test runs."""
    running = Site(
        database_url=database_url,
        media_folder=tmp_path / "media",
        work_folder=tmp_path / "work",
        box=box,
    )
    await running.seed()
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def shared_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """One seeded site for a whole module of tests that only read (and sign in)."""
    folder = tmp_path_factory.mktemp("site")
    if request.param == "sqlite":
        path = folder / "archive.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = empty_postgres(request.getfixturevalue("postgres_database"))
    running = Site(
        database_url=url, media_folder=folder / "media", box=SecretBox([SecretBox.generate_key()])
    )
    asyncio.run(running.seed())
    running.start()
    yield running
    running.stop()
