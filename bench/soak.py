"""Weeks of live traffic in one long-lived importer process: lag and memory, day after day.

The emulator runs as its own process with live traffic (`--days` unset: calls go on as its clock
moves). This process is the importer, as `callarchive serve` is: one node (`Node`, the class
`serve` runs) with one archive, open for the whole run, running the policy's job again and
again on a clock linked to the emulator's (real time plus an offset both move together). Each
simulated day the clock moves a day, fault profiles are switched on every other day (as in
`tests/imports/test_week.py`), and the job runs its windows until caught up (at most 48 a job,
as scheduled). After each day it reads the cursor's lag behind the horizon, the retry buffer,
the archive's size, and this process's resident memory (VmRSS) and live Python objects, so a
leak shows as a line that keeps rising.

    .venv/bin/python bench/soak.py --days 28 --calls-per-hour 20
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.emulator.harness import RunningEmulator
from tests.imports.completeness import buffered, cursor_position
from tests.imports.harness import Installation, LinkedClock

from callarchive.archive import ConversationQuery
from callarchive.cli.running import Node
from callarchive.monitoring import Metrics
from genesys_emulator import EmulatorConfig
from processes import emulator

DAY_S = 86_400
CODEC = "WAV_ULAW"
# Faults on every other day, as in the week test; the day after shows the import catching up.
PROFILES = [
    "server-errors:0.3,truncated-media:0.3",
    "rate-limit-burst:0.05,connection-resets:0.1,internal-errors:0.1",
    "malformed-json:0.2,mistyped-fields:0.1,wrong-content-type:0.1",
]


def resident_mb() -> float:
    """This process's resident memory now (not its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def profile_of(day: int, faults: bool) -> str:
    return PROFILES[(day // 2) % len(PROFILES)] if faults and day % 2 == 1 else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--calls-per-hour", type=float, default=20.0)
    parser.add_argument("--no-faults", action="store_true")
    args = parser.parse_args()

    today = dt.datetime.now(dt.UTC).date()
    config = EmulatorConfig(
        seed=7,
        start=today,
        calls_per_hour=args.calls_per_hour,
        mean_call_seconds=20,
        max_call_seconds=120,
        long_call_ratio=0.0,
        users=20,
        transcode_ms=0,
        rate_limit_per_minute=0,
    )
    flags = [
        f"--seed={config.seed}",
        f"--start={today}",
        f"--calls-per-hour={config.calls_per_hour}",
        f"--mean-call-seconds={config.mean_call_seconds}",
        f"--max-call-seconds={config.max_call_seconds}",
        "--long-call-ratio=0",
        f"--users={config.users}",
        "--transcode-ms=0",
        "--rate-limit-per-minute=0",
    ]
    print(
        f"# soak: {args.days} days, {args.calls_per_hour} calls an hour, "
        f"faults {'off' if args.no_faults else 'every other day'}; "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    with tempfile.TemporaryDirectory() as folder, emulator(flags) as process:
        running = RunningEmulator(base_url=process.url, config=config)
        home = Path(folder) / "home"
        installation = Installation(
            home=home,
            database_url=f"sqlite:///{home / 'callarchive.db'}",
            emulator=running,
            clock=LinkedClock(running),
        )
        installation.configure(codec=CODEC, recording_start=f"{today}T00:00:00Z")
        asyncio.run(soak(installation, days=args.days, faults=not args.no_faults))


async def soak(installation: Installation, *, days: int, faults: bool) -> None:
    # Maximum Recording Length, Availability Delay and one window (the configuration's).
    lag_allowed = dt.timedelta(minutes=10 + 2 + 60)
    wired = installation.wiring()
    async with wired.archive() as archive:
        node = Node(wired, archive, metrics=Metrics())
        (policy,) = await archive.policies.list()
        (source,) = await archive.import_sources.list()
        assert policy.id is not None
        assert source.id is not None
        print(
            "| day | faults | windows | archived | lag after the job | in retry buffer "
            "| job s | RSS MB | Python objects |"
        )
        print("|---:|---|---:|---:|---|---:|---:|---:|---:|")
        rss: list[float] = []
        for day in range(days):
            profile = profile_of(day, faults)
            installation.clock.advance(DAY_S)
            installation.emulator.control("POST", "faults", json={"profile": profile})
            started = time.monotonic()
            results = await node.run_job(policy.id, source.id)
            took = time.monotonic() - started
            gc.collect()
            rss.append(resident_mb())
            work = installation.work_folder()
            lag = installation.clock.now() - cursor_position(work)
            waiting = sum(len(v) for v in buffered(work).values())
            archived = await archive.conversations.count(ConversationQuery())
            normal = "normal" if lag <= lag_allowed else "behind"
            print(
                f"| {day + 1} | {profile or '-'} | {len(results)} | {archived:,} | "
                f"{lag.total_seconds() / 60:.0f} min ({normal}) | {waiting} | {took:.0f} | "
                f"{rss[-1]:.1f} | {len(gc.get_objects()):,} |",
                flush=True,
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nRSS after day 1: {rss[0]:.1f} MB, after day {days}: {rss[-1]:.1f} MB "
        f"(lowest {min(rss):.1f}, highest {max(rss):.1f}), peak {peak:.1f} MB"
    )


if __name__ == "__main__":
    main()
