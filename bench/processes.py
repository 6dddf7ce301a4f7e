"""The processes a benchmark run drives: the emulator, a callarchive installation, `serve`.

Each runs as its own process, so what we measure of callarchive (wall time, CPU seconds, peak
resident memory from `os.wait4`) is the importer's own and not the emulator's.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CLIENT_ID = "callarchive-demo"
CLIENT_SECRET = "demo-secret-change-me"  # noqa: S105 - the emulator's published demo credential


def _listening(process: subprocess.Popen[str], what: str, timeout_s: float = 120.0) -> str:
    """The URL a process announces on its `LISTENING <url>` line; the rest of its output is
    drained in the background so a full pipe never blocks it."""
    assert process.stdout is not None
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if not found and line.startswith("LISTENING "):
                found.append(line.split()[1].rstrip("/"))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout_s) or not found:
        process.kill()
        raise SystemExit(f"{what} did not start")
    return found[0]


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Emulator:
    """`python -m genesys_emulator` with the given flags, on a free port."""

    def __init__(self, flags: Sequence[str]) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "genesys_emulator", "--port", "0", *flags],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.url = _listening(self.process, "the emulator")
        self.http = httpx.Client(base_url=self.url, timeout=1800)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_emulator/{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def ground_truth(self, **params: str) -> dict[str, Any]:
        return dict(self.control("GET", "ground-truth", params=params))

    def stats(self) -> dict[str, Any]:
        return dict(self.control("GET", "stats"))

    def prewarm(self, windows: Sequence[tuple[str, str]], format_id: str, workers: int = 2) -> None:
        """Encode the media of these windows into the emulator's cache folder ahead of the
        runs: the emulator's synthesis must not compete with the importer for CPU."""

        def one(window: tuple[str, str]) -> None:
            self.ground_truth(formats=format_id, **{"from": window[0], "to": window[1]})

        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, windows))

    def close(self) -> None:
        self.http.close()
        _stop(self.process)


@contextmanager
def emulator(flags: Sequence[str]) -> Iterator[Emulator]:
    running = Emulator(flags)
    try:
        yield running
    finally:
        running.close()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Measured:
    """One process's exit, wall time and own resource usage."""

    returncode: int
    wall_s: float
    cpu_s: float
    max_rss_mb: float
    stdout: str
    stderr: str


def measured(command: Sequence[str], env: dict[str, str], cwd: Path = ROOT) -> Measured:
    """Run `command` to its end; its CPU time and peak RSS come from `os.wait4` (its own)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=process.returncode,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            max_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
            stdout=out.read(),
            stderr=err.read(),
        )


class Installation:
    """A callarchive home (SQLite and local folders, the embedded default) in a temp folder."""

    ADMIN = "bench-admin"

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "CALLARCHIVE_HOME": str(home)}

    def command(self, *args: str) -> list[str]:
        return [PYTHON, "-m", "callarchive.cli", "--log-level", "warning", *args]

    def must(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            self.command(*args),
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            input=stdin,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"callarchive {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def configure(self, document: dict[str, Any]) -> None:
        document = {**document, "users": [*document["users"], self._admin()]}
        path = self.home / "config.json"
        path.write_text(json.dumps(document))
        self.must("db", "upgrade")
        self.must("config", "import", str(path))

    def _admin(self) -> dict[str, Any]:
        return {
            "login": self.ADMIN,
            "name": "Benchmark administrator",
            "role": "administrator",
            "supervisor": None,
            "partitions": [],
            "recorded": False,
        }

    def api_key(self) -> str:
        """A new API key of the benchmark administrator (for the responsiveness probe)."""
        script = (
            "import asyncio, sys\n"
            "from callarchive.cli import Wiring\n"
            "from callarchive.settings import Settings\n"
            "from callarchive.web import security\n"
            "async def main():\n"
            "    key, prefix = security.new_api_key()\n"
            "    async with Wiring(settings=Settings()).archive() as archive:\n"
            "        await archive.accounts.add_api_key(sys.argv[1], name='bench',\n"
            "            key_sha256=security.digest(key), prefix=prefix, actor='bench')\n"
            "    print(key)\n"
            "asyncio.run(main())\n"
        )
        result = subprocess.run(
            [PYTHON, "-c", script, self.ADMIN],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip().splitlines()[-1]


@contextmanager
def served(installation: Installation) -> Iterator[str]:
    """`callarchive serve` of the installation on a free loopback port; yields its URL."""
    process = subprocess.Popen(
        installation.command("serve", "--port", "0"),
        env=installation.env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield _listening(process, "callarchive serve")
    finally:
        _stop(process)


class Sampler:
    """Samples the emulator's counters during a run: media downloads (one per recording
    archived) over time give the steady-state rate, once the budget's opening burst is over."""

    def __init__(self, genesys: Emulator, every_s: float = 2.0) -> None:
        self._genesys = genesys
        self._every = every_s
        self._stop = threading.Event()
        self.samples: list[tuple[float, int, int]] = []  # (seconds, media, API calls)
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            stats = self._genesys.stats()
            media = stats["by_endpoint"].get("GET /media", 0)
            api = stats["total"] - media - stats["by_endpoint"].get("POST /oauth/token", 0)
            self.samples.append((time.monotonic() - self._started, media, api))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def timeline(self, every_s: float = 10.0) -> list[dict[str, float]]:
        """Media downloads and API calls a minute in each `every_s` of the run: where the
        budget went unused shows as a low API rate."""
        points: list[dict[str, float]] = []
        previous = (0.0, 0, 0)
        for sample in self.samples:
            if sample[0] - previous[0] < every_s and sample is not self.samples[-1]:
                continue
            span = (sample[0] - previous[0]) / 60 or 1.0
            points.append(
                {
                    "s": round(sample[0]),
                    "media_per_min": round((sample[1] - previous[1]) / span),
                    "api_per_min": round((sample[2] - previous[2]) / span),
                }
            )
            previous = sample
        return points

    def steady_media_per_minute(self, skip_s: float = 60.0) -> float | None:
        """Media downloads a minute from `skip_s` after the start to the last download."""
        later = [s for s in self.samples if s[0] >= skip_s]
        if len(later) < 2:
            return None
        last = max(later, key=lambda s: (s[1], -s[0]))  # first sample with the final count
        first = later[0]
        if last[0] <= first[0]:
            return None
        return 60 * (last[1] - first[1]) / (last[0] - first[0])


class Probe:
    """Asks the web API what a person would while the import runs, and times the answers."""

    PATHS = ("/api/v1/conversations?page_size=50", "/api/v1/status")

    def __init__(self, url: str, api_key: str, every_s: float = 0.5) -> None:
        self._http = httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": api_key})
        self._every = every_s
        self._stop = threading.Event()
        self.times: dict[str, list[float]] = {path: [] for path in self.PATHS}
        self.errors: dict[str, int] = dict.fromkeys(self.PATHS, 0)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self, rounds: int, warm_up: int = 5) -> None:
        """Idle figures, before the import starts (after a few unrecorded requests)."""
        for _ in range(warm_up):
            for path in self.PATHS:
                self._http.get(path)
        for _ in range(rounds):
            self._once()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._http.close()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._once()

    def _once(self) -> None:
        for path in self.PATHS:
            started = time.perf_counter()
            try:
                response = self._http.get(path)
            except httpx.HTTPError:
                self.errors[path] += 1
                continue
            if response.status_code == 200:
                self.times[path].append(1000 * (time.perf_counter() - started))
            else:
                self.errors[path] += 1

    def summary(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for path, times in self.times.items():
            if not times:
                out[path] = {"requests": 0, "errors": self.errors[path]}
                continue
            ordered = sorted(times)
            out[path] = {
                "requests": len(times),
                "errors": self.errors[path],
                "median_ms": round(statistics.median(ordered), 1),
                "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
                "max_ms": round(ordered[-1], 1),
            }
        return out
