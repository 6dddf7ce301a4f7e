"""Genesys client benchmarks: per-request overhead, and pacing against a 300/min rate limit.

    .venv/bin/python bench/client_bench.py overhead [--requests 2000]
    .venv/bin/python bench/client_bench.py pacing [--minutes 3] [--budget 300]

`overhead` compares the client (auth flow, budget, retry transport, model parsing) with a bare
httpx client doing the same GET against the emulator at zero latency and no rate limit.
`pacing` runs the client flat out against an emulator enforcing the Genesys limit (300 requests
a minute per token) with the client's budget set to the same number, and reports the achieved
rate and the number of 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import logging
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.emulator.harness import RunningEmulator, serve

from callarchive import logs
from callarchive.clock import SystemClock
from callarchive.genesys import ConnectionSettings, connect
from genesys_emulator import EmulatorConfig


def settings(emulator: RunningEmulator, budget: int) -> ConnectionSettings:
    return ConnectionSettings(
        auth_url=emulator.base_url,
        api_url=emulator.base_url,
        client_id=emulator.config.client_id,
        client_secret=emulator.config.client_secret,
        requests_per_minute=budget,
    )


async def overhead(emulator: RunningEmulator, requests: int, rounds: int = 5) -> dict[str, float]:
    """Bare httpx and the client, interleaved in rounds; medians of the per-round means."""
    user_id = emulator.ground_truth()["users"][0]["id"]
    token = emulator.token()
    bare_ms: list[float] = []
    client_ms: list[float] = []
    async with (
        httpx.AsyncClient(
            base_url=emulator.base_url, headers={"Authorization": f"Bearer {token}"}
        ) as bare,
        connect(settings(emulator, 1_000_000), clock=SystemClock()) as client,
    ):
        await bare.get(f"/api/v2/users/{user_id}")
        await client.user(user_id)
        per_round = max(1, requests // rounds)
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(per_round):
                (await bare.get(f"/api/v2/users/{user_id}")).json()
            bare_ms.append(1000 * (time.perf_counter() - started) / per_round)
            started = time.perf_counter()
            for _ in range(per_round):
                await client.user(user_id)
            client_ms.append(1000 * (time.perf_counter() - started) / per_round)
    bare_median, client_median = statistics.median(bare_ms), statistics.median(client_ms)
    return {
        "requests_each": per_round * rounds,
        "bare_httpx_ms_per_request": round(bare_median, 3),
        "client_ms_per_request": round(client_median, 3),
        "client_overhead_ms_per_request": round(client_median - bare_median, 3),
    }


async def pacing(emulator: RunningEmulator, minutes: float, budget: int) -> dict[str, float]:
    users = [u["id"] for u in emulator.ground_truth()["users"]]
    deadline = time.monotonic() + minutes * 60
    sent = 0
    stamps: list[float] = []

    async with connect(settings(emulator, budget), clock=SystemClock()) as client:
        await client.user(users[0])  # token fetched outside the measurement
        emulator.control("DELETE", "stats")
        started = time.monotonic()

        async def worker(offset: int) -> None:
            nonlocal sent
            while time.monotonic() < deadline:
                await client.user(users[(sent + offset) % len(users)])
                sent += 1
                stamps.append(time.monotonic())

        await asyncio.gather(*(worker(i) for i in range(8)))
        elapsed = time.monotonic() - started
    stats = emulator.stats()
    # Steady state: skip the first minute, whose opening burst fills the window at once.
    steady = [t for t in stamps if t >= started + 60]
    steady_span = (max(steady) - (started + 60)) if steady else 0.0
    steady_rate = 60 * len(steady) / steady_span if steady_span else 0.0
    return {
        "minutes": round(elapsed / 60, 2),
        "budget_per_minute": budget,
        "requests": sent,
        "rate_per_minute_overall": round(60 * sent / elapsed, 1),
        "rate_per_minute_steady": round(steady_rate, 1),
        "share_of_budget_steady": round(steady_rate / budget, 3),
        "http_429": stats["rate_limited"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=["overhead", "pacing"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--budget", type=int, default=300)
    args = parser.parse_args()
    logs.configure(level=logging.WARNING)
    today = dt.datetime.now(dt.UTC).date()
    config = EmulatorConfig(
        seed=5,
        start=today - dt.timedelta(days=1),
        days=1,
        calls_per_hour=5,
        mean_call_seconds=5,
        rate_limit_per_minute=0 if args.scenario == "overhead" else args.budget,
        cache_dir=tempfile.mkdtemp(prefix="bench-media-"),
    )
    with serve(dataclasses.replace(config)) as emulator:
        if args.scenario == "overhead":
            result = asyncio.run(overhead(emulator, args.requests))
        else:
            result = asyncio.run(pacing(emulator, args.minutes, args.budget))
    result["machine"] = f"{platform.machine()} {platform.python_version()}"  # type: ignore[assignment]
    result["date"] = today.isoformat()  # type: ignore[assignment]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
