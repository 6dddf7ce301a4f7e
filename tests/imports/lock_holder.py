"""Another node holding one pair's lock: `python -m tests.imports.lock_holder HOME URL POLICY
SOURCE` takes the lock of the named policy and import source of the installation at HOME (its
key) and database URL, prints "held", and keeps it until its standard input closes (or it is
killed)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from callarchive.archive import Archive
from callarchive.secrets import load_secret_box


async def hold(home: str, url: str, policy_name: str, source_name: str) -> None:
    archive = Archive.open(url, load_secret_box(home=Path(home), env_key=None))
    try:
        policy = await archive.policies.get(policy_name)
        source = await archive.import_sources.get(source_name)
        async with archive.pair_lock(policy.id or 0, source.id or 0):
            print("held", flush=True)
            await asyncio.to_thread(sys.stdin.read)
    finally:
        await archive.close()


if __name__ == "__main__":
    asyncio.run(hold(*sys.argv[1:5]))
