"""An import killed at random moments loses nothing, duplicates nothing and leaves no debris.

Everything runs as separate processes, as in production: the emulator (`python -m
genesys_emulator`) and the `callarchive` command on an installation in a temporary home.
`callarchive import run --until-caught-up` is killed with SIGKILL at seeded random moments,
again and again; then it runs to completion, and the archive must be the emulator's ground truth.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.imports.completeness import (
    assert_archive_is_ground_truth,
    buffered,
    cursor_position,
    duplicates,
    traffic_end,
)
from tests.imports.harness import POLICY
from tests.imports.setup import configuration_for

CALLARCHIVE = str(Path(sys.executable).with_name("callarchive"))
CODEC = "WAV"
SEED = 7
KILLS = 20
KILL_AFTER_S = (0.05, 1.5)
# A day of short calls two days back: the whole day is past the import horizon.
FIRST_DAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
ORG = (
    "--seed", "21", "--start", FIRST_DAY.isoformat(), "--days", "1", "--calls-per-hour", "4",
    "--mean-call-seconds", "10", "--long-call-ratio", "0", "--users", "8", "--transcode-ms", "0",
    # Each API call takes a little while, so that a run spans many kill moments.
    "--latency-ms", "20",
)  # fmt: skip


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[str]:
    """The base URL of an emulator running as its own process."""
    log = tmp_path / "emulator.log"
    command = [sys.executable, "-m", "genesys_emulator", "--port", "0", *ORG]
    command += ["--cache-dir", str(tmp_path / "emulator-media")]
    with (
        log.open("w") as errors,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True) as process,
    ):
        try:
            yield listening(process, log)
        finally:
            process.terminate()
            process.wait(timeout=30)


def listening(process: subprocess.Popen[str], log: Path) -> str:
    """The URL of the emulator's `LISTENING <url>` line."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("LISTENING "):
            return line.split()[1]
    raise AssertionError(f"the emulator ended before listening:\n{log.read_text()}")


class Home:
    """A callarchive installation in a folder, used through the `callarchive` command only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        kept = {k: v for k, v in os.environ.items() if not k.startswith("CALLARCHIVE_")}
        # Unbuffered: a killed run's log lines up to the kill stay in the log.
        self.env = kept | {
            "CALLARCHIVE_HOME": str(path),
            "PYTHONUNBUFFERED": "1",
            "CALLARCHIVE_LOG_LEVEL": "info",
        }
        self.log = path.parent / "runs.log"

    def must(self, *args: str) -> str:
        done = subprocess.run(  # noqa: PLW1510 - the code is checked below, with the output
            [CALLARCHIVE, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stderr[-3000:]}"
        return done.stdout

    def import_killed_after(self, seconds: float) -> int:
        """`import run --until-caught-up`, SIGKILLed after `seconds` unless it ended first."""
        command = [CALLARCHIVE, "import", "run", "--policy", POLICY, "--until-caught-up"]
        with (
            self.log.open("a") as out,
            subprocess.Popen(command, env=self.env, stdout=out, stderr=out) as process,
        ):
            try:
                return process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                return process.wait()

    def exported(self) -> list[dict[str, Any]]:
        out = self.must("conversations", "export", "--format", "jsonl")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def object_keys(self) -> list[str]:
        """The media object key of every archived recording, read from the database."""
        database = f"file:{self.path / 'callarchive.db'}?mode=ro"
        with contextlib.closing(sqlite3.connect(database, uri=True)) as connection:
            return [key for (key,) in connection.execute("SELECT object_key FROM recordings")]

    def media_files(self) -> list[str]:
        """Every file under the media folder (staging files too), relative to it."""
        root = self.path / "media"
        return [p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir()]

    @property
    def work(self) -> Path:
        return self.path / "work" / "cdrimport" / "GenesysCloud"

    def position(self) -> dt.datetime | None:
        """The cursor's position, None before the first window is done."""
        if not (self.work / "laststate").is_dir():
            return None
        return cursor_position(self.work)


def truth(url: str, formats: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=120) as http:
        response = http.get("/_emulator/ground-truth", params={"formats": formats})
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture
def home(tmp_path: Path, emulator: str) -> Home:
    """An installation configured for the emulator's org, every agent a recorded user."""
    installation = Home(tmp_path / "home")
    document = configuration_for(
        truth(emulator, "none"),
        base_url=emulator,
        client_id="callarchive-demo",
        client_secret="demo-secret-change-me",
        recording_start=f"{FIRST_DAY.isoformat()}T00:00:00Z",
        codec=CODEC,
    )
    config = tmp_path / "config.json"
    config.write_text(json.dumps(document))
    installation.must("db", "upgrade")
    installation.must("config", "import", str(config))
    return installation


def test_import_killed_at_random_moments_ends_with_the_ground_truth_once(
    home: Home, emulator: str
) -> None:
    rng = random.Random(SEED)
    day_end = dt.datetime.combine(FIRST_DAY, dt.time(), dt.UTC) + dt.timedelta(days=1)
    codes: list[int] = []
    mid_import = 0
    while codes.count(-9) < KILLS:
        assert len(codes) < 3 * KILLS, f"too few runs were killed: {codes}"
        code = home.import_killed_after(rng.uniform(*KILL_AFTER_S))
        assert code in (0, -9), f"a run after a crash exited {code}; see {home.log}"
        codes.append(code)
        position = home.position()
        if code == -9 and (position is None or position < day_end):
            mid_import += 1
    print("CODES", codes, mid_import)
    assert mid_import >= KILLS // 2, f"only {mid_import} kills interrupted the import"

    home.must("import", "run", "--policy", POLICY, "--until-caught-up")

    expected = truth(emulator, CODEC)
    records = home.exported()
    assert_archive_is_ground_truth(records, expected, CODEC)
    keys = home.object_keys()
    assert duplicates(keys) == []
    assert sorted(home.media_files()) == sorted(keys)
    assert buffered(home.work) == {"buffer": [], "inflight": []}
    position = home.position()
    assert position is not None
    assert position >= day_end > traffic_end(expected)
