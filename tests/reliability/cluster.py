"""Three `callarchive worker` processes on a PostgreSQL database and an S3 prefix of their own,
importing an emulated org; and what they hold, for the invariant.

The emulator and the S3 server are passed in, so that tests may stop and restart them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import make_url

from callarchive.archive import S3Options
from callarchive.secrets import key_file_path
from tests.archive.fixtures import BUCKET
from tests.imports.harness import Installation
from tests.reliability.invariants import Holdings, lost_or_doubled, violations
from tests.scheduling.processes import Fleet, Process

CODEC = "WAV"
NODES = ("node-a", "node-b", "node-c")
# The emulated org of these tests: yesterday, ending at midnight (past the import horizon).
YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
DAY_END = dt.datetime.combine(YESTERDAY, dt.time(), dt.UTC) + dt.timedelta(days=1)


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def database_on(server_url: str) -> Iterator[str]:
    """An empty database of its own on the PostgreSQL server of `server_url`, dropped after."""
    name = f"callarchive_reliability_{secrets.token_hex(6)}"
    with psycopg.connect(libpq(server_url), autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq(server_url), autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclasses.dataclass
class Cluster:
    installation: Installation
    env: dict[str, str]
    s3: S3Options
    media_url: str
    work_url: str
    homes: Path
    heartbeat_s: float = 0.3
    stalled_after_s: float = 1.5

    @classmethod
    def configure(
        cls, installation: Installation, s3: S3Options, homes: Path, **options: Any
    ) -> Cluster:
        installation.configure(codec=CODEC, **options)
        prefix = f"s3://{BUCKET}/{secrets.token_hex(6)}"
        key = ",".join(key_file_path(installation.home).read_text().split())
        assert s3.secret_access_key is not None
        env = {
            "CALLARCHIVE_DATABASE_URL": installation.database_url,
            "CALLARCHIVE_MEDIA_URL": f"{prefix}/media",
            "CALLARCHIVE_WORK_URL": f"{prefix}/work",
            "CALLARCHIVE_S3_ENDPOINT_URL": s3.endpoint_url or "",
            "CALLARCHIVE_S3_REGION": s3.region,
            "CALLARCHIVE_S3_ACCESS_KEY_ID": s3.access_key_id or "",
            "CALLARCHIVE_S3_SECRET_ACCESS_KEY": s3.secret_access_key.reveal(),
            "CALLARCHIVE_SECRET_KEY": key,
            "CALLARCHIVE_LOG_LEVEL": "info",
        }
        return cls(
            installation=installation,
            env=env,
            s3=s3,
            media_url=f"{prefix}/media",
            work_url=f"{prefix}/work",
            homes=homes,
        )

    def start(self, workers: Fleet, name: str) -> Process:
        args = ["worker", "--server", name, "--port", "0", "--concurrency", "2"]
        args += ["--heartbeat-s", str(self.heartbeat_s)]
        args += ["--stalled-after-s", str(self.stalled_after_s)]
        return workers.start(name, args, {**self.env, "CALLARCHIVE_HOME": str(self.homes / name)})

    def holdings(self) -> Holdings:
        return Holdings.read(
            self.installation.database_url,
            media_url=self.media_url,
            work_url=self.work_url,
            s3=self.s3,
        )

    def lost_or_doubled(self, truth: dict[str, Any]) -> list[str]:
        return lost_or_doubled(self.holdings(), truth)

    def wait_caught_up(self, timeout: float) -> Holdings:
        """The holdings once the cursor reached the day's end with the retry buffer empty."""
        deadline = time.monotonic() + timeout
        while True:
            holdings = self.holdings()
            done = holdings.cursor is not None and holdings.cursor >= DAY_END
            if done and not holdings.buffered and not holdings.inflight:
                return holdings
            assert time.monotonic() < deadline, (
                f"not caught up within {timeout} s: cursor {holdings.cursor}, "
                f"{len(holdings.buffered)} buffered, {len(holdings.inflight)} in flight"
            )
            time.sleep(0.5)

    def violations(self, truth: dict[str, Any]) -> list[str]:
        return violations(
            self.holdings(), truth, self.installation.exported(), CODEC, cursor_past=DAY_END
        )
