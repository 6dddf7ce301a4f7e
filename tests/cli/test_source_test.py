"""`callarchive source test` against the Genesys emulator: a token, a count, permission warnings."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from callarchive.cli import Wiring, cli
from callarchive.settings import Settings
from genesys_emulator import EmulatorConfig
from tests.emulator.harness import RunningEmulator, serve
from tests.genesys.conftest import EmulatorClock

CONFIG = EmulatorConfig(
    seed=3, calls_per_hour=40, mean_call_seconds=5, long_call_ratio=0.0, users=8
)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[RunningEmulator]:
    with serve(dataclasses.replace(CONFIG, cache_dir=str(tmp_path / "media"))) as running:
        yield running


def invoke(emulator: RunningEmulator, home: Path, database_url: str, *args: str) -> Result:
    wiring = Wiring(
        settings=Settings(home=home, database_url=database_url), clock=EmulatorClock(emulator)
    )
    return CliRunner().invoke(cli, list(args), obj=wiring)


def add_source(
    emulator: RunningEmulator, home: Path, database_url: str, client: tuple[str, str]
) -> None:
    assert invoke(emulator, home, database_url, "db", "upgrade").exit_code == 0
    result = invoke(
        emulator, home, database_url,
        "source", "add",
        "--name", "Emulated",
        "--client-id", client[0],
        "--client-secret", client[1],
        "--auth-url", emulator.base_url,
        "--api-url", emulator.base_url,
        "--codec", "MP3",
        "--recording-timezone", "Europe/London",
        "--recording-start", "2024-01-01",
        "--max-recording-length-min", "240",
        "--availability-delay-min", "30",
        "--cache-lifetime-min", "60",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def recorded_last_hour(emulator: RunningEmulator) -> int:
    now = emulator.now()
    truth = emulator.ground_truth(**{"from": (now - dt.timedelta(hours=1)).isoformat()})
    return sum(1 for c in truth["conversations"] if c["voice"] and c["recorded"])


def test_source_test_gets_a_token_and_counts_the_last_hour(
    emulator: RunningEmulator, tmp_path: Path, database_url: str
) -> None:
    home = tmp_path / "home"
    add_source(emulator, home, database_url, (CONFIG.client_id, CONFIG.client_secret))
    result = invoke(emulator, home, database_url, "source", "test", "Emulated")
    assert result.exit_code == 0, result.output
    assert "token obtained (expires in" in result.output
    assert (
        f"conversations started in the last hour: {recorded_last_hour(emulator)}" in result.output
    )
    assert "warning" not in result.stderr
    assert emulator.stats()["tokens_issued"] == 1


def test_source_test_warns_when_batch_downloads_leave_recordings_out(
    emulator: RunningEmulator, tmp_path: Path, database_url: str
) -> None:
    emulator.control(
        "POST",
        "clients",
        json={
            "client_id": "no-sensitive",
            "client_secret": "secret-2",
            "permissions": ["analytics:conversationDetail:view", "recording:recording:view"],
        },
    )
    home = tmp_path / "home"
    add_source(emulator, home, database_url, ("no-sensitive", "secret-2"))
    # Every recording from now on holds sensitive data.
    for _ in range(3):
        emulator.control("POST", "calls", json={"duration_s": 5, "sensitive": True})
    emulator.advance(120)
    result = invoke(emulator, home, database_url, "source", "test", "Emulated")
    assert result.exit_code == 0, result.output
    assert "recording:recording:viewSensitiveData" in result.stderr


def test_source_test_with_a_wrong_secret_fails_clearly(
    emulator: RunningEmulator, tmp_path: Path, database_url: str
) -> None:
    home = tmp_path / "home"
    add_source(emulator, home, database_url, (CONFIG.client_id, "not-the-secret"))
    result = invoke(emulator, home, database_url, "source", "test", "Emulated")
    assert result.exit_code == 1
    assert "refused the client credentials" in result.stderr
    assert "not-the-secret" not in result.output + result.stderr
