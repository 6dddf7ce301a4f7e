"""An import killed at random moments loses nothing, duplicates nothing and leaves no debris.

Everything runs as separate processes, as in production: the emulator (`python -m
genesys_emulator`) and the `callarchive` command on an installation in a temporary home.
`callarchive import run --until-caught-up` is killed with SIGKILL at seeded random moments
(0.05 to 1.5 s after its first window began, so past the interpreter's start), again and
again, while the emulator cuts some media downloads short, so that the retry buffer
fills and empties under the kills too. Then the faults stop, the import runs to completion, and
the archive must be the emulator's ground truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import httpx
import pytest

from callarchive.archive import ObjectStore
from tests.imports.completeness import (
    assert_archive_is_ground_truth,
    buffered,
    cursor_position,
    duplicates,
    traffic_end,
    wanted,
)
from tests.imports.harness import POLICY
from tests.imports.setup import configuration_for
from tests.scheduling.processes import PATIENCE_S

CALLARCHIVE = str(Path(sys.executable).with_name("callarchive"))
CODEC = "WAV"
SEED = 7
KILLS = 20
KILL_AFTER_S = (0.05, 1.5)
KILLED = -signal.SIGKILL
WINDOW_MIN = 15  # short windows: the cursor moves often, and a run spans many of them
# A day of short calls two days back: the whole day is past the import horizon.
FIRST_DAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
DAY_END = dt.datetime.combine(FIRST_DAY, dt.time(), dt.UTC) + dt.timedelta(days=1)
ORG = (
    "--seed", "21", "--start", FIRST_DAY.isoformat(), "--days", "1", "--calls-per-hour", "4",
    "--mean-call-seconds", "30", "--long-call-ratio", "0", "--users", "8", "--transcode-ms", "0",
    # Each API call takes a while, so that the import spans many kill moments; no rate limit:
    # restarts in quick succession would otherwise wait out 429s in real time.
    "--latency-ms", "60", "--rate-limit-per-minute", "0",
    # Downloads cut short (again and again: the client retries a few times) put conversations
    # in the retry buffer, which later runs take and settle.
    "--faults", "truncated-media:0.7",
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


def control(url: str, method: str, path: str, **kwargs: Any) -> Any:
    """A call to the emulator's control API; its JSON answer."""
    with httpx.Client(base_url=url, timeout=120) as http:
        response = http.request(method, f"/_emulator/{path}", **kwargs)
    response.raise_for_status()
    return response.json()


def copy_log(process: subprocess.Popen[str], out: TextIO, started: threading.Event) -> None:
    """Copy the run's log (standard error) to `out`; set `started` at its first window."""
    assert process.stderr is not None
    for line in process.stderr:
        out.write(line)
        if "run_started" in line:
            started.set()
    started.set()  # it ended without starting one: nothing to wait for


class Home:
    """A callarchive installation in a folder, used through the `callarchive` command.

    The database and the folders are read directly only to check them between kills.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        kept = {k: v for k, v in os.environ.items() if not k.startswith("CALLARCHIVE_")}
        # Unbuffered, at level info: a killed run's log up to the kill stays in the log.
        self.env = kept | {
            "CALLARCHIVE_HOME": str(path),
            "CALLARCHIVE_LOG_LEVEL": "info",
            "PYTHONUNBUFFERED": "1",
        }
        self.log = path.parent / "runs.log"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: PLW1510 - callers check the exit code
            [CALLARCHIVE, *args], env=self.env, capture_output=True, text=True, timeout=300
        )

    def must(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stderr[-3000:]}"
        return done.stdout

    def import_killed_after(self, seconds: float) -> int:
        """`import run --until-caught-up`, SIGKILLed `seconds` after its first window began
        (unless it ended first); its exit status."""
        command = [CALLARCHIVE, "import", "run", "--policy", POLICY, "--until-caught-up"]
        with (
            self.log.open("a", encoding="utf-8") as out,
            subprocess.Popen(
                command, env=self.env, stdout=out, stderr=subprocess.PIPE, encoding="utf-8"
            ) as process,
        ):
            started = threading.Event()
            copier = threading.Thread(target=copy_log, args=(process, out, started))
            copier.start()
            try:
                if not started.wait(timeout=PATIENCE_S):
                    process.kill()
                    pytest.fail(
                        f"the run started no window within {PATIENCE_S:g} s; see {self.log}"
                    )
                return process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                return process.wait()
            finally:
                copier.join()

    def exported(self) -> list[dict[str, Any]]:
        out = self.must("conversations", "export", "--format", "jsonl")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def query(self, sql: str) -> list[str]:
        """The first column of `sql` on the archive database, opened read-only."""
        database = f"file:{self.path / 'callarchive.db'}?mode=ro"
        with contextlib.closing(sqlite3.connect(database, uri=True)) as connection:
            return [str(row[0]) for row in connection.execute(sql)]

    def object_keys(self) -> list[str]:
        """The media object key of every archived recording."""
        return self.query("SELECT object_key FROM recordings")

    def archived(self) -> list[str]:
        """The Genesys conversation id of every archived conversation."""
        return self.query("SELECT genesys_conversation_id FROM conversations")

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


@pytest.fixture
def home(tmp_path: Path, emulator: str) -> Home:
    """An installation configured for the emulator's org, every agent a recorded user."""
    installation = Home(tmp_path / "home")
    document = configuration_for(
        control(emulator, "GET", "ground-truth", params={"formats": "none"}),
        base_url=emulator,
        client_id="callarchive-demo",
        client_secret="demo-secret-change-me",
        recording_start=f"{FIRST_DAY.isoformat()}T00:00:00Z",
        codec=CODEC,
        batch_duration_min=WINDOW_MIN,
    )
    document["import_sources"][0]["request_budget_per_minute"] = 100_000
    config = tmp_path / "config.json"
    config.write_text(json.dumps(document))
    installation.must("db", "upgrade")
    installation.must("config", "import", str(config))
    return installation


def lost(home: Home, truth: dict[str, Any]) -> list[str]:
    """Conversations the cursor has passed that are neither archived nor in the retry buffer."""
    position = home.position()
    if position is None:
        return []
    waiting = buffered(home.work)
    held = set(home.archived()) | set(waiting["buffer"]) | set(waiting["inflight"])
    return sorted(
        conversation_id
        for conversation_id, c in wanted(truth).items()
        if dt.datetime.fromisoformat(c["start"]) < position and conversation_id not in held
    )


def test_import_killed_at_random_moments_loses_nothing_and_ends_with_the_ground_truth_once(
    home: Home, emulator: str
) -> None:
    truth = control(emulator, "GET", "ground-truth", params={"formats": "none"})
    rng = random.Random(SEED)
    codes: list[int] = []
    held_back: set[str] = set()
    # On a slow machine the first kills may land before any download: go on killing until the
    # retry buffer has been through the kills too (bounded).
    while codes.count(KILLED) < KILLS or not held_back:
        assert len(codes) < 3 * KILLS, f"too few runs were killed, or none held back: {codes}"
        code = home.import_killed_after(rng.uniform(*KILL_AFTER_S))
        assert code in (0, KILLED), f"a run after a crash exited {code}; see {home.log}"
        codes.append(code)
        assert lost(home, truth) == [], f"after run {len(codes)}; see {home.log}"
        assert duplicates(home.archived()) == []
        held_back.update(*buffered(home.work).values())
    assert held_back, "no conversation went through the retry buffer while runs were killed"

    control(emulator, "POST", "faults", json={"profile": ""})
    for _ in range(5):  # each run retries at most 25 CDRs of the retry buffer
        home.must("import", "run", "--policy", POLICY, "--until-caught-up")
        if not any(buffered(home.work).values()):
            break

    expected = control(emulator, "GET", "ground-truth", params={"formats": CODEC})
    assert_archive_is_ground_truth(home.exported(), expected, CODEC)
    keys = home.object_keys()
    assert duplicates(keys) == []
    assert sorted(home.media_files()) == sorted(keys)
    assert buffered(home.work) == {"buffer": [], "inflight": []}
    position = home.position()
    assert position is not None
    assert position >= DAY_END > traffic_end(expected)


# A process that starts storing a recording bigger than one upload part, then dies: the local
# store has begun writing its staging file `<key>#<n>` when the kill comes.
KILLED_UPLOAD = """
import asyncio, os, signal, sys
from callarchive.archive import ObjectStore

async def main() -> None:
    async with ObjectStore.from_url(sys.argv[1]).upload(sys.argv[2]) as upload:
        await upload.write(b"x" * (9 * 1024 * 1024))
        os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""
MEDIA_KEY = "media/1/2026/01/02/conversation-1/recording-1.wav"


def test_recording_stored_after_a_killed_upload_leaves_no_staging_file(tmp_path: Path) -> None:
    media = tmp_path / "media"
    killed = subprocess.run(  # noqa: PLW1510 - the exit status is the point
        [sys.executable, "-c", KILLED_UPLOAD, str(media), MEDIA_KEY], capture_output=True
    )
    assert killed.returncode == KILLED, killed.stderr
    left = [p.name for p in (media / MEDIA_KEY).parent.iterdir()]
    assert left == ["recording-1.wav#1"], "the kill should have caught the upload half-way"

    async def store_again() -> None:
        async with ObjectStore.from_url(str(media)).upload(MEDIA_KEY) as upload:
            await upload.write(b"RIFF")

    asyncio.run(store_again())
    assert [p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()] == [MEDIA_KEY]
