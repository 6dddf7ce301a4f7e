"""Fixtures: an emulator served on loopback, configured per test."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator import EmulatorConfig
from tests.emulator.harness import RunningEmulator, serve

# A small, fast org: three days of history ending today at midnight (UTC), short calls.
TODAY = dt.datetime.now(dt.UTC).date()
BASE = EmulatorConfig(
    seed=7,
    start=TODAY - dt.timedelta(days=3),
    days=3,
    calls_per_hour=6,
    mean_call_seconds=6,
    long_call_ratio=0.0,
    users=12,
    transcode_ms=0,
    media_delay_s=30,
    job_delay_s=5,
    data_lag_s=600,
    batch_delay_s=5,
)

EmulatorFactory = Callable[..., RunningEmulator]


@pytest.fixture
def make_emulator(tmp_path: Path) -> Iterator[EmulatorFactory]:
    """Start emulators with `BASE` overridden by keyword arguments."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> RunningEmulator:
            overrides.setdefault("cache_dir", str(tmp_path / f"media-{len(stack._exit_callbacks)}"))
            config = dataclasses.replace(BASE, **overrides)
            return stack.enter_context(serve(config))

        yield start


@pytest.fixture
def emulator(make_emulator: EmulatorFactory) -> RunningEmulator:
    return make_emulator()
