"""Fixtures for the Genesys client: an emulator on loopback and a client connected to it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from callarchive.clock import FakeClock
from callarchive.genesys import ConnectionSettings, GenesysClient, connect
from genesys_emulator import EmulatorConfig
from tests.emulator.harness import RunningEmulator, serve

TODAY = dt.datetime.now(dt.UTC).date()
BASE = EmulatorConfig(
    seed=11,
    start=TODAY - dt.timedelta(days=2),
    days=2,
    calls_per_hour=4,
    mean_call_seconds=5,
    long_call_ratio=0.0,
    users=10,
    transcode_ms=0,
    job_delay_s=5,
    data_lag_s=600,
    batch_delay_s=5,
)


class MemoryBlobs:
    """An in-memory blob store (the work store's get/put contract)."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    async def get(self, key: str) -> bytes | None:
        return self.blobs.get(key)

    async def put(self, key: str, data: bytes) -> None:
        self.blobs[key] = data


class EmulatorClock(FakeClock):
    """A fake clock whose sleeps also move the emulator's clock, so waits cost no real time."""

    def __init__(self, emulator: RunningEmulator) -> None:
        super().__init__(dt.datetime.now(dt.UTC))
        self._emulator = emulator

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        if seconds > 0:
            async with httpx.AsyncClient(base_url=self._emulator.base_url) as http:
                response = await http.post("/_emulator/clock", json={"advance_s": seconds})
                response.raise_for_status()


EmulatorFactory = Callable[..., RunningEmulator]


@pytest.fixture
def make_emulator(tmp_path: Path) -> Iterator[EmulatorFactory]:
    with ExitStack() as stack:
        count = 0

        def start(
            *,
            uvicorn_options: dict[str, Any] | None = None,
            verify: Any = True,
            **overrides: Any,
        ) -> RunningEmulator:
            nonlocal count
            count += 1
            overrides.setdefault("cache_dir", str(tmp_path / f"media-{count}"))
            config = dataclasses.replace(BASE, **overrides)
            return stack.enter_context(serve(config, verify=verify, **(uvicorn_options or {})))

        yield start


@pytest.fixture
def emulator(make_emulator: EmulatorFactory) -> RunningEmulator:
    return make_emulator()


def settings_for(emulator: RunningEmulator, **overrides: Any) -> ConnectionSettings:
    values: dict[str, Any] = {
        "auth_url": emulator.base_url,
        "api_url": emulator.base_url,
        "client_id": emulator.config.client_id,
        "client_secret": emulator.config.client_secret,
    }
    values.update(overrides)
    return ConnectionSettings(**values)


@pytest.fixture
async def genesys(emulator: RunningEmulator) -> AsyncIterator[GenesysClient]:
    async with connect(settings_for(emulator), clock=EmulatorClock(emulator)) as client:
        yield client
