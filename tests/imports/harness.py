"""An emulated Genesys org and a callarchive installation importing from it, for the tests.

`LinkedClock` is the importer's clock: real time plus an offset that moves together with the
emulator's clock, so both agree on "now" and tests move time instead of waiting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from demo.configuration import configuration_for

from callarchive.cli import Wiring, cli
from callarchive.settings import Settings
from tests.emulator.harness import RunningEmulator

POLICY = "Genesys import"
SOURCE = "Emulated org"


class LinkedClock:
    """Real time plus an offset shared with the emulator's clock."""

    def __init__(self, emulator: RunningEmulator) -> None:
        self._emulator = emulator
        self._offset = 0.0
        self.slept: list[float] = []

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self._offset)

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self._offset += seconds
        self._emulator.advance(seconds)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.to_thread(self.advance, seconds)


@dataclasses.dataclass
class Installation:
    """A callarchive home, database and stores, configured for the emulator's org."""

    home: Path
    database_url: str
    emulator: RunningEmulator
    clock: LinkedClock

    def wiring(self) -> Wiring:
        settings = Settings(home=self.home, database_url=self.database_url)
        return Wiring(settings=settings, clock=self.clock)

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(cli, list(args), obj=self.wiring())

    def must(self, *args: str) -> Result:
        result = self.cli(*args)
        assert result.exit_code == 0, (
            f"{args}: {result.output}\n{result.stderr}\n{result.exception!r}"
        )
        return result

    def configure(self, **options: Any) -> dict[str, Any]:
        """`db upgrade` and `config import` of the emulator's org (options: configuration_for)."""
        truth = self.emulator.ground_truth()
        config = self.emulator.config
        options.setdefault("recording_start", f"{config.start}T00:00:00Z")
        document = configuration_for(
            truth,
            base_url=self.emulator.base_url,
            client_id=options.pop("client_id", config.client_id),
            client_secret=options.pop("client_secret", config.client_secret),
            **options,
        )
        path = self.home / "config.json"
        self.home.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document))
        self.must("db", "upgrade")
        self.must("config", "import", str(path))
        return document

    def import_run(self, *extra: str) -> Result:
        return self.cli("import", "run", "--policy", POLICY, *extra)

    def catch_up(self) -> Result:
        return self.must("import", "run", "--policy", POLICY, "--until-caught-up")

    def exported(self) -> list[dict[str, Any]]:
        out = self.must("conversations", "export", "--format", "jsonl").output
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def pair(self) -> tuple[str, str]:
        return ("--policy", POLICY), ("--source", SOURCE)  # type: ignore[return-value]

    def cursor_line(self) -> str:
        out = self.must("cursor", "show", "--policy", POLICY, "--source", SOURCE).output
        return out.splitlines()[1]

    def work_folder(self) -> Path:
        return self.home / "work" / "cdrimport" / "GenesysCloud"
