"""Invoking the `callarchive` command in-process with a test wiring."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from click.testing import CliRunner, Result

from callarchive.cli import ProbeResult, Wiring, cli
from callarchive.clock import FakeClock
from callarchive.configuration import ImportSource
from callarchive.settings import Settings

NOW = dt.datetime(2024, 3, 1, 16, 0, tzinfo=dt.UTC)


@dataclasses.dataclass
class FakeProbe:
    """Answers `source test` with a fixed result and remembers what it was asked."""

    result: ProbeResult
    calls: list[tuple[str, dt.datetime, dt.datetime]] = dataclasses.field(default_factory=list)

    async def __call__(
        self, source: ImportSource, *, since: dt.datetime, until: dt.datetime
    ) -> ProbeResult:
        self.calls.append((source.name, since, until))
        return self.result


@dataclasses.dataclass
class Installation:
    """One callarchive installation: a home folder and a database."""

    home: Path
    database_url: str
    probe: FakeProbe = dataclasses.field(
        default_factory=lambda: FakeProbe(ProbeResult(token_expires_in_s=86399, conversations=0))
    )

    def wiring(self) -> Wiring:
        settings = Settings(home=self.home, database_url=self.database_url)
        return Wiring(settings=settings, probe_override=self.probe, clock=FakeClock(NOW))

    def run(self, *args: str, input: str | None = None) -> Result:  # noqa: A002
        return CliRunner().invoke(cli, list(args), obj=self.wiring(), input=input)


SOURCE_ARGS = (
    "--name", "Chicago",
    "--client-id", "4b2c0a4e",
    "--client-secret", "s3cr3t-value",
    "--auth-url", "https://login.usw2.pure.cloud",
    "--api-url", "https://api.usw2.pure.cloud",
    "--codec", "MP3",
    "--recording-timezone", "America/Chicago",
    "--recording-start", "2024-01-01",
    "--max-recording-length-min", "240",
    "--availability-delay-min", "30",
    "--cache-lifetime-min", "60",
)  # fmt: skip
