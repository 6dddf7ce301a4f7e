"""Fixtures for import tests: an emulator and an installation importing from it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator import EmulatorConfig
from tests.emulator.harness import serve
from tests.imports.harness import Installation, LinkedClock

TODAY = dt.datetime.now(dt.UTC).date()
# A day of short calls ending at midnight: quick to import, several windows of an hour.
ORG = EmulatorConfig(
    seed=21,
    start=TODAY - dt.timedelta(days=1),
    days=1,
    calls_per_hour=3,
    mean_call_seconds=5,
    long_call_ratio=0.0,
    users=8,
    transcode_ms=0,
    media_delay_s=30,
    batch_delay_s=2,
    job_delay_s=2,
)

InstallationFactory = Callable[..., Installation]


@pytest.fixture
def make_installation(tmp_path: Path) -> Iterator[InstallationFactory]:
    """An installation (SQLite under its home) importing from a fresh emulator."""
    with ExitStack() as stack:
        count = 0

        def start(*, database_url: str | None = None, **org: Any) -> Installation:
            nonlocal count
            count += 1
            org.setdefault("cache_dir", str(tmp_path / f"emulator-media-{count}"))
            emulator = stack.enter_context(serve(dataclasses.replace(ORG, **org)))
            home = tmp_path / f"home-{count}"
            url = database_url or f"sqlite:///{home / 'callarchive.db'}"
            return Installation(
                home=home, database_url=url, emulator=emulator, clock=LinkedClock(emulator)
            )

        yield start


@pytest.fixture
def installation(make_installation: InstallationFactory) -> Installation:
    return make_installation()
