"""Web load: 50 people searching and playing recordings while an import runs at full speed.

    .venv/bin/python bench/web_load.py [--users 50] [--seconds 60] [--conversations 1200]

An emulator (no latency, no rate limit: the import goes as fast as this machine lets it) and
`callarchive serve` on loopback, on the embedded default (SQLite in WAL mode, local folders);
`callarchive import run --until-caught-up` runs as its own process against the same database.
Once the first conversations are archived, simulated users (httpx async clients, each with an
API key of its own account: administrators, a compliance officer, supervisors and agents) loop
for a bounded time over what people do: search conversations (a page of 25, newest first; by
user; by time window; by number), open one, and play a recording as a browser does, in ranged
GETs (the first 64 KiB, then a seek into the middle). Per operation: requests, errors (any
status other than 200/206, any transport error or timeout), p50/p95/p99 latency. Errors must be
zero. Results: JSON on standard output and in `.bench/web_load.json`, a table in
`.bench/web_load.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from importer import WORK, Org, document, media_cache
from processes import PYTHON, ROOT, Installation, emulator, served

POLICY = "Genesys import"
TIMEOUT_S = 30.0  # a request slower than this counts as an error (a person gives up)
PLAY_CHUNK = 64 * 1024
ROLES_MIX = ("administrator", "compliance_officer", "supervisor", "agent")


def api_keys(installation: Installation, logins: list[str]) -> list[str]:
    """New API keys, one per login, made in one process."""
    script = (
        "import asyncio, sys\n"
        "from callarchive.cli import Wiring\n"
        "from callarchive.settings import Settings\n"
        "from callarchive.web import security\n"
        "async def main():\n"
        "    out = []\n"
        "    async with Wiring(settings=Settings()).archive() as archive:\n"
        "        for i, login in enumerate(sys.argv[1:]):\n"
        "            key, prefix = security.new_api_key()\n"
        "            await archive.accounts.add_api_key(login, name=f'load-{i}', key_sha256=\n"
        "                security.digest(key), prefix=prefix, actor='bench')\n"
        "            out.append(key)\n"
        "    print(' '.join(out))\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run(
        [PYTHON, "-c", script, *logins],
        env=installation.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"could not make API keys:\n{result.stderr}")
    return result.stdout.split()


def people(config: dict[str, Any], n: int) -> list[tuple[str, str]]:
    """(login, role) of n simulated people: a quarter each of administrators and compliance
    officers (added to the configuration), supervisors and agents (from the org)."""
    supervisors = [u["login"] for u in config["users"] if u["role"] == "supervisor"]
    agents = [u["login"] for u in config["users"] if u["role"] == "agent"]
    chosen: list[tuple[str, str]] = []
    for i in range(n):
        role = ROLES_MIX[i % len(ROLES_MIX)]
        if role == "supervisor":
            chosen.append((supervisors[i % len(supervisors)], role))
        elif role == "agent":
            chosen.append((agents[i % len(agents)], role))
        else:
            chosen.append((f"load-{role}-{i}", role))
    return chosen


def with_people(config: dict[str, Any], chosen: list[tuple[str, str]]) -> dict[str, Any]:
    extra = [
        {"login": login, "name": login, "role": role, "supervisor": None, "partitions": [],
         "recorded": False}
        for login, role in chosen
        if role in ("administrator", "compliance_officer")
    ]  # fmt: skip
    return {**config, "users": [*config["users"], *extra]}


class Recorder:
    """Latencies and errors per operation."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    async def timed(
        self, operation: str, client: httpx.AsyncClient, path: str, **kwargs: Any
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.get(path, **kwargs)
        except httpx.HTTPError as error:
            self.errors[operation].append(f"{type(error).__name__}: {error}")
            return None
        elapsed = 1000 * (time.perf_counter() - started)
        if response.status_code not in (200, 206):
            self.errors[operation].append(f"{response.status_code} {path}: {response.text[:300]}")
            return None
        self.times[operation].append(elapsed)
        return response

    def summary(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for operation in sorted(set(self.times) | set(self.errors)):
            ordered = sorted(self.times[operation])
            row: dict[str, Any] = {
                "requests": len(ordered) + len(self.errors[operation]),
                "errors": len(self.errors[operation]),
            }
            for name, q in (("p50_ms", 0.50), ("p95_ms", 0.95), ("p99_ms", 0.99)):
                row[name] = (
                    round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)
                    if ordered
                    else None
                )
            row["max_ms"] = round(ordered[-1], 1) if ordered else None
            row["first_errors"] = self.errors[operation][:3]
            out[operation] = row
        return out


async def person(
    url: str, key: str, login: str, *, seed: int, until: float, recorder: Recorder
) -> None:
    """One person's loop: search, open a result, play it (ranged GETs), think a little."""
    rng = random.Random(seed)
    async with httpx.AsyncClient(
        base_url=url, headers={"X-API-Key": key}, timeout=TIMEOUT_S
    ) as client:
        while time.monotonic() < until:
            params = rng.choice(
                [
                    {},
                    {"user": login},
                    {"direction": rng.choice(["inbound", "outbound", "internal"])},
                    {"min_duration": "60", "sort": "duration"},
                    {"page": str(rng.randint(1, 3))},
                ]
            )
            page = await recorder.timed("search", client, "/api/v1/conversations", params=params)
            items = page.json()["items"] if page is not None else []
            if not items:
                await asyncio.sleep(rng.uniform(0.2, 0.5))
                continue
            chosen = rng.choice(items)
            opened = await recorder.timed("open", client, f"/api/v1/conversations/{chosen['id']}")
            if opened is None or not opened.json()["recordings"]:
                continue
            recording = rng.choice(opened.json()["recordings"])
            media = recording["media_url"]
            await recorder.timed(
                "play (first 64 KiB)", client, media, headers={"Range": f"bytes=0-{PLAY_CHUNK - 1}"}
            )
            middle = max(0, recording["size"] // 2)
            await recorder.timed(
                "play (seek)", client, media,
                headers={"Range": f"bytes={middle}-{middle + PLAY_CHUNK - 1}"},
            )  # fmt: skip
            await asyncio.sleep(rng.uniform(0.05, 0.3))  # a person reads and listens a moment


async def load(url: str, keys: list[tuple[str, str]], seconds: float) -> Recorder:
    recorder = Recorder()
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(
            person(url, key, login, seed=i, until=until, recorder=recorder)
            for i, (login, key) in enumerate(keys)
        )
    )
    return recorder


def archived_count(url: str, key: str) -> int:
    response = httpx.get(
        f"{url}/api/v1/conversations",
        headers={"X-API-Key": key},
        params={"page_size": 25},
        timeout=TIMEOUT_S,
    )
    response.raise_for_status()
    return int(response.json()["total"])


def run(args: argparse.Namespace) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date()
    org = Org(
        seed=args.seed,
        start=today - dt.timedelta(days=args.days + 1),
        days=args.days,
        calls_per_hour=round(args.conversations / (24 * args.days), 2),
        mean_call_seconds=90,
        min_call_seconds=30,
        max_call_seconds=240,
    )
    WORK.mkdir(exist_ok=True)
    with (
        emulator(org.flags(media_cache(org), rate_limit_per_minute=0)) as genesys,
        tempfile.TemporaryDirectory(prefix="bench-home-", dir=WORK) as home,
    ):
        truth = genesys.ground_truth(formats="none")
        print(f"org: {len(truth['conversations'])} conversations", file=sys.stderr)
        genesys.prewarm(
            [(f"{org.start}T00:00:00Z", f"{org.start + dt.timedelta(days=args.days)}T00:00:00Z")],
            "WAV_ULAW",
        )
        installation = Installation(Path(home))
        config = document(
            truth, genesys.url, recording_start=f"{org.start}T00:00:00Z", strategy="transcode",
            delete=False, batch_duration_min=60,
        )  # fmt: skip
        chosen = people(config, args.users)
        installation.configure(with_people(config, chosen))
        keys = api_keys(installation, [login for login, _ in chosen])
        command = installation.command("import", "run", "--policy", POLICY, "--until-caught-up")
        with served(installation) as url:
            log = (Path(home) / "import.log").open("w")
            started = time.monotonic()
            importer = subprocess.Popen(
                command, env=installation.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
            while archived_count(url, keys[0]) < args.users and importer.poll() is None:
                time.sleep(0.5)
            before = archived_count(url, keys[0])
            load_started = time.monotonic()
            recorder = asyncio.run(
                load(url, list(zip([p[0] for p in chosen], keys, strict=True)), args.seconds)
            )
            load_s = time.monotonic() - load_started
            after = archived_count(url, keys[0])
            importing_throughout = importer.poll() is None
            returncode = importer.wait()
            import_s = time.monotonic() - started
            log.close()
            final = archived_count(url, keys[0])
        if returncode != 0:
            print((Path(home) / "import.log").read_text()[-5000:], file=sys.stderr)
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        "python": platform.python_version(),
        "users": args.users,
        "roles": {r: sum(1 for _, role in chosen if role == r) for r in ROLES_MIX},
        "seconds": round(load_s, 1),
        "archived_when_load_began": before,
        "archived_during_load": after - before,
        "import_still_running_at_end_of_load": importing_throughout,
        "import_returncode": returncode,
        "import_wall_s": round(import_s, 1),
        "archived_total": final,
        "operations": recorder.summary(),
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| operation | requests | errors | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for operation, row in results["operations"].items():
        lines.append(
            f"| {operation} | {row['requests']} | {row['errors']} | {row['p50_ms']} | "
            f"{row['p95_ms']} | {row['p99_ms']} | {row['max_ms']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--conversations", type=int, default=1200, help="in the org, about")
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    results = run(args)
    (WORK / "web_load.json").write_text(json.dumps(results, indent=2))
    (WORK / "web_load.md").write_text(markdown(results))
    print(json.dumps(results, indent=2))
    print(markdown(results))
    errors = sum(row["errors"] for row in results["operations"].values())
    sys.exit(1 if errors or results["import_returncode"] != 0 else 0)


if __name__ == "__main__":
    main()
